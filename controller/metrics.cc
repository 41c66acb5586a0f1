#include "controller/metrics.h"

#include "absl/strings/str_cat.h"

namespace smartcanary {
namespace {

struct Help {
  const char* name;
  const char* type;
  const char* help;
};

constexpr Help kHelp[] = {
    {"canaryd_reconciles_total", "counter", "Reconcile passes run."},
    {"canaryd_reconcile_errors_total", "counter",
     "Reconcile passes that failed (retried)."},
    {"canaryd_patch_errors_total", "counter",
     "Traffic routing writes that failed."},
    {"canaryd_drift_corrections_total", "counter",
     "Weights someone else changed, put back to the rollout's plan."},
    {"canaryd_measurements_total", "counter",
     "Analysis measurements taken, by phase."},
    {"canaryd_annotations_total", "counter", "Grafana annotations posted."},
    {"canaryd_annotation_failures_total", "counter",
     "Grafana annotations given up after retries or dropped."},
    {"canaryd_notifications_total", "counter",
     "Rollout Events and webhook notifications delivered, by sink."},
    {"canaryd_notification_failures_total", "counter",
     "Rollout Events and webhook notifications lost, by sink and reason "
     "(failed after retries, or dropped from a full queue)."},
};

}  // namespace

Metrics::Metrics() {
  for (const Help& help : kHelp)
    counters_.DescribeCounter(help.name, help.help);
}

void Metrics::Count(const std::string& counter, const std::string& labels,
                    uint64_t by) {
  counters_.Count(counter, labels, by);
}

uint64_t Metrics::Get(const std::string& counter,
                      const std::string& labels) const {
  return counters_.Get(counter, labels);
}

void Metrics::SetRollout(const std::string& ns, const std::string& name,
                         const std::string& phase, int canary_weight) {
  absl::MutexLock lock(&mu_);
  rollouts_[{ns, name}] = {phase, canary_weight};
}

void Metrics::ForgetRollout(const std::string& ns, const std::string& name) {
  absl::MutexLock lock(&mu_);
  rollouts_.erase({ns, name});
}

std::string Metrics::Render() const {
  std::string out = counters_.Render();
  absl::MutexLock lock(&mu_);
  std::map<std::string, int> by_phase = {
      {"Progressing", 0}, {"Paused", 0}, {"Healthy", 0}, {"Degraded", 0}};
  for (const auto& [key, state] : rollouts_) ++by_phase[state.phase];
  absl::StrAppend(&out,
                  "# HELP canaryd_rollouts Rollouts by phase.\n# TYPE "
                  "canaryd_rollouts gauge\n");
  for (const auto& [phase, count] : by_phase) {
    absl::StrAppend(&out, "canaryd_rollouts{phase=\"", phase, "\"} ", count,
                    "\n");
  }
  absl::StrAppend(
      &out,
      "# HELP canaryd_canary_weight The canary's traffic share per rollout.\n"
      "# TYPE canaryd_canary_weight gauge\n");
  for (const auto& [key, state] : rollouts_) {
    absl::StrAppend(&out, "canaryd_canary_weight{namespace=\"", key.first,
                    "\",rollout=\"", key.second, "\"} ", state.canary_weight,
                    "\n");
  }
  return out;
}

}  // namespace smartcanary
