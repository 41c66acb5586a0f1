#ifndef SMARTCANARY_CONTROLLER_ANALYSIS_ANALYZER_CLIENT_H_
#define SMARTCANARY_CONTROLLER_ANALYSIS_ANALYZER_CLIENT_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "controller/analysis/analysis_run.h"
#include "controller/analysis/analysis_spec.h"
#include "smartcanary/v1/analysis.grpc.pb.h"

namespace smartcanary {

using NamedMeasurement = std::pair<std::string, MeasurementRecord>;

// Takes one measurement of each metric. Never fails as a whole: a metric
// that cannot be measured (the analyzer down, Prometheus unreachable) comes
// back as an Error measurement saying why, which counts toward its
// consecutiveErrorLimit and never passes.
class Analyzer {
 public:
  virtual ~Analyzer() = default;
  virtual std::vector<NamedMeasurement> Measure(
      const std::vector<const MetricSpec*>& metrics,
      const std::map<std::string, std::string>& args,
      const v1::RolloutContext& context, absl::Time now) = 0;
};

// The canary-analyzer over gRPC.
class GrpcAnalyzer : public Analyzer {
 public:
  explicit GrpcAnalyzer(const std::string& address);
  std::vector<NamedMeasurement> Measure(
      const std::vector<const MetricSpec*>& metrics,
      const std::map<std::string, std::string>& args,
      const v1::RolloutContext& context, absl::Time now) override;

 private:
  std::string address_;
  std::unique_ptr<v1::AnalysisService::Stub> stub_;
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ANALYSIS_ANALYZER_CLIENT_H_
