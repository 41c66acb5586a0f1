#ifndef SMARTCANARY_CONTROLLER_METRICS_H_
#define SMARTCANARY_CONTROLLER_METRICS_H_

#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "common/metrics_registry.h"

namespace smartcanary {

// canaryd's own Prometheus metrics, rendered in the text format.
class Metrics {
 public:
  Metrics();
  void Count(const std::string& counter, const std::string& labels = "",
             uint64_t by = 1);
  // The latest phase and weight of one rollout (for the per-phase gauge).
  void SetRollout(const std::string& ns, const std::string& name,
                  const std::string& phase, int canary_weight);
  void ForgetRollout(const std::string& ns, const std::string& name);
  uint64_t Get(const std::string& counter,
               const std::string& labels = "") const;
  std::string Render() const;

 private:
  struct RolloutState {
    std::string phase;
    int canary_weight;
  };
  MetricsRegistry counters_;
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, RolloutState> rollouts_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_METRICS_H_
