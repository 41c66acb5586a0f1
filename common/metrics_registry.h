#ifndef SMARTCANARY_COMMON_METRICS_REGISTRY_H_
#define SMARTCANARY_COMMON_METRICS_REGISTRY_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"

// Counters and histograms rendered in Prometheus' text format, shared by
// canaryd's and the analyzer's /metrics. Thread-safe.
namespace smartcanary {

// `{name="value",...}`'s inside, values escaped as the text format asks
// (backslash, double quote, line feed), so a caller's value cannot add labels.
std::string MetricLabels(
    const std::vector<std::pair<std::string, std::string>>& labels);

class MetricsRegistry {
 public:
  // Declares a counter: rendered with its HELP and TYPE, as 0 until counted.
  void DescribeCounter(const std::string& name, const std::string& help);
  // Declares a histogram with these upper bounds (ascending; +Inf added).
  void DescribeHistogram(const std::string& name, const std::string& help,
                         std::vector<double> bounds);

  // `labels` as MetricLabels makes them (or empty).
  void Count(const std::string& counter, const std::string& labels = "",
             uint64_t by = 1);
  void Observe(const std::string& histogram, const std::string& labels,
               double value);
  uint64_t Get(const std::string& counter,
               const std::string& labels = "") const;
  // Declared metrics in declaration order.
  std::string Render() const;

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;  // per bound, not cumulative; +Inf last
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    std::string name, help;
    bool histogram = false;
    std::vector<double> bounds;
    std::map<std::string, uint64_t> counters;
    std::map<std::string, Histogram> histograms;
  };
  static Family NewFamily(const std::string& name, const std::string& help);
  Family* Find(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<Family> families_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smartcanary

#endif  // SMARTCANARY_COMMON_METRICS_REGISTRY_H_
