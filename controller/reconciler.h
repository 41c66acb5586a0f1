#ifndef SMARTCANARY_CONTROLLER_RECONCILER_H_
#define SMARTCANARY_CONTROLLER_RECONCILER_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/analysis/analyzer_client.h"
#include "controller/analysis/measurement_inbox.h"
#include "controller/analysis/preflight_inbox.h"
#include "controller/analysis/template_store.h"
#include "controller/canary_rollout.h"
#include "controller/keyed_mutex.h"
#include "controller/kube/kube_api.h"
#include "controller/metrics.h"
#include "controller/rollout_events.h"
#include "controller/state_machine.h"
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
  // Reconcile this rollout ("namespace/name") soon: its measurements are in.
  std::function<void(const std::string& key)> wake;
  // The leader-election fence, asked right before every write; unset: always.
  std::function<bool()> may_write;
  // Routers that read the API server itself, never the watch cache: an
  // abort, a deletion and the exception boundary return traffic to stable
  // from what the server holds, so a weight someone set a moment ago that
  // the watch has not delivered yet is not taken for stable. Unset: routers.
  RouterFactory server_routers;
};

// Brings one CanaryRollout's traffic and status to what the state machine
// decides. Each decision's traffic change is applied before its status is
// written, so a crash in between repeats the (idempotent) traffic change and
// never skips a step. Measurements are taken asynchronously: a reconcile
// that needs them starts them and returns; their arrival wakes the rollout,
// and the next reconcile records them. A rollout's reconciles and commands
// hold its lock, so they never interleave; nothing here waits on analysis.
class Reconciler {
 public:
  Reconciler(const kube::KubeApi& client, ReconcilerDeps deps);
  ~Reconciler();

  // Returns how long until this rollout needs another look (InfiniteDuration:
  // only on a change). Errors are transient; the caller retries with backoff.
  absl::StatusOr<absl::Duration> Reconcile(const std::string& ns,
                                           const std::string& name,
                                           absl::Time now);

  struct CommandResult {
    CanaryRollout rollout;
    absl::Duration requeue_after = absl::InfiniteDuration();
  };
  // A person's or CD system's command, in effect on traffic before this
  // returns: an abort moves the weights to stable 100 and reads them back
  // before its status is written; other commands write their status and
  // then run one reconcile pass (a promote's next weight is applied).
  // A refused command writes nothing.
  absl::StatusOr<CommandResult> RunCommand(const std::string& ns,
                                           const std::string& name,
                                           Command command, absl::Time now);

  // Rollout keys ("namespace/name") whose traffic goes through this mesh
  // object (e.g. "virtualservices/ns/name"), as of their last reconcile.
  std::vector<std::string> RolloutsUsing(const std::string& object_key) const;

  // No more wakes from measurements still in flight (canaryd is stopping).
  void Shutdown();

  const TemplateStore& templates() const { return templates_; }

 private:
  // RunCommand inside its exception boundary.
  absl::StatusOr<CommandResult> RunCommandGuarded(const std::string& ns,
                                                  const std::string& name,
                                                  Command command,
                                                  absl::Time now);
  absl::StatusOr<absl::Duration> ReconcileLocked(const std::string& ns,
                                                 const std::string& name,
                                                 absl::Time now);
  // Writes `status` guarded by the object's resourceVersion (ABORTED on a
  // concurrent write) and publishes the events the change means.
  absl::StatusOr<CanaryRollout> WriteStatus(
      const CanaryRollout& rollout, const RolloutStatus& status,
      std::optional<Command> command = std::nullopt);
  // Resolves the analyses that apply at `status`; FAILED_PRECONDITION or
  // INVALID_ARGUMENT when a template is missing or wrong. Templates are read
  // once per reconcile pass (`resolved_this_pass`, keyed by the reference's
  // field path), not once per decision.
  absl::StatusOr<ActiveAnalysis> ActiveAnalysesFor(
      const CanaryRollout& rollout, const RolloutStatus& status,
      std::map<std::string, std::string>& step_args,
      std::map<std::string, std::string>& background_args,
      std::map<std::string, ResolvedAnalysis>& resolved_this_pass);
  // The measurements `decision` asks for, if they have arrived, recorded
  // into its next status; nullopt when they are still being taken (started
  // now if they were not yet).
  std::optional<RolloutStatus> TakeMeasurements(
      const CanaryRollout& rollout, const Decision& decision,
      const ActiveAnalysis& analysis,
      const std::map<std::string, std::string>& step_args,
      const std::map<std::string, std::string>& background_args,
      absl::Time now);
  // Writes a delivered pre-flight into the status and asks for a new one
  // when it is due (none yet, a new step, or a minute old while it holds
  // the rollout or was unknown). True when the rollout must wait for it:
  // enforce, the canary at 0 and no pre-flight yet for this generation.
  absl::StatusOr<bool> RunPreflight(
      CanaryRollout& rollout, absl::Time now,
      std::map<std::string, ResolvedAnalysis>& resolved_this_pass);
  // Deletion: traffic to stable, then the finalizer goes.
  absl::StatusOr<absl::Duration> Finalize(const nlohmann::json& object,
                                          const std::string& ns,
                                          const std::string& name);
  void IndexRouting(const std::string& key, const CanaryRollout* rollout);
  // UNAVAILABLE once this process may no longer write (it lost its lease).
  absl::Status Fence() const;
  // deps_.server_routers, or deps_.routers when it is unset.
  std::unique_ptr<TrafficRouter> ServerRouter(
      const CanaryRollout& rollout) const;

  const kube::KubeApi& client_;
  ReconcilerDeps deps_;
  TemplateStore templates_;
  KeyedMutex locks_;
  // Shared with in-flight analyzer callbacks, which may outlive a reconcile.
  std::shared_ptr<MeasurementInbox> inbox_;
  std::shared_ptr<PreflightInbox> preflights_;
  mutable absl::Mutex index_mu_;
  std::map<std::string, std::set<std::string>> rollouts_by_object_
      ABSL_GUARDED_BY(index_mu_);
  std::map<std::string, std::vector<std::string>> objects_by_rollout_
      ABSL_GUARDED_BY(index_mu_);
};

// FAILED_PRECONDITION / NOT_FOUND / INVALID_ARGUMENT from a router or a
// template: the objects do not fit the rollout, so retrying will not help.
bool IsConfigError(const absl::Status& status);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_RECONCILER_H_
