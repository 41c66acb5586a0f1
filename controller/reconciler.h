#ifndef SMARTCANARY_CONTROLLER_RECONCILER_H_
#define SMARTCANARY_CONTROLLER_RECONCILER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/analysis/analyzer_client.h"
#include "controller/analysis/template_store.h"
#include "controller/canary_rollout.h"
#include "controller/kube/kube_client.h"
#include "controller/metrics.h"
#include "controller/rollout_events.h"
#include "controller/traffic_router.h"

namespace smartcanary {

using RouterFactory =
    std::function<std::unique_ptr<TrafficRouter>(const CanaryRollout&)>;

// What a reconciler talks to besides the API server.
struct ReconcilerDeps {
  RouterFactory routers;
  Analyzer* analyzer = nullptr;
  EventSink* events = nullptr;  // may be null
  Metrics* metrics = nullptr;   // may be null
};

// Brings one CanaryRollout's traffic and status to what the state machine
// decides. Each decision's traffic change is applied before its status is
// written, so a crash in between repeats the (idempotent) traffic change and
// never skips a step. Measurements are recorded in the status as soon as
// they are taken.
class Reconciler {
 public:
  Reconciler(const kube::KubeClient& client, ReconcilerDeps deps);

  // Returns how long until this rollout needs another look (InfiniteDuration:
  // only on a change). Errors are transient; the caller retries with backoff.
  absl::StatusOr<absl::Duration> Reconcile(const std::string& ns,
                                           const std::string& name,
                                           absl::Time now);

  // Writes `status` guarded by the object's resourceVersion (ABORTED on a
  // concurrent write) and publishes the events the change means.
  absl::StatusOr<CanaryRollout> WriteStatus(
      const CanaryRollout& rollout, const RolloutStatus& status,
      std::optional<Command> command = std::nullopt);

  const TemplateStore& templates() const { return templates_; }

 private:
  // Resolves the analyses that apply at `status`; FAILED_PRECONDITION or
  // INVALID_ARGUMENT when a template is missing or wrong. Templates are read
  // once per reconcile pass (`resolved_this_pass`, keyed by the reference's
  // field path), not once per decision.
  absl::StatusOr<ActiveAnalysis> ActiveAnalysesFor(
      const CanaryRollout& rollout, const RolloutStatus& status,
      std::map<std::string, std::string>& step_args,
      std::map<std::string, std::string>& background_args,
      std::map<std::string, ResolvedAnalysis>& resolved_this_pass);
  RolloutStatus TakeMeasurements(
      const CanaryRollout& rollout, const Decision& decision,
      const ActiveAnalysis& analysis,
      const std::map<std::string, std::string>& step_args,
      const std::map<std::string, std::string>& background_args,
      absl::Time now);

  const kube::KubeClient& client_;
  ReconcilerDeps deps_;
  TemplateStore templates_;
};

// FAILED_PRECONDITION / NOT_FOUND / INVALID_ARGUMENT from a router or a
// template: the objects do not fit the rollout, so retrying will not help.
bool IsConfigError(const absl::Status& status);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_RECONCILER_H_
