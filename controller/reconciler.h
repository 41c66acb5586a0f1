#ifndef SMARTCANARY_CONTROLLER_RECONCILER_H_
#define SMARTCANARY_CONTROLLER_RECONCILER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/canary_rollout.h"
#include "controller/kube/kube_client.h"
#include "controller/traffic_router.h"

namespace smartcanary {

using RouterFactory = std::function<std::unique_ptr<TrafficRouter>(const CanaryRollout&)>;

// Brings one CanaryRollout's traffic and status to what the state machine
// decides. Each decision's traffic change is applied before its status is
// written, so a crash in between repeats the (idempotent) traffic change and
// never skips a step.
class Reconciler {
 public:
  Reconciler(const kube::KubeClient& client, RouterFactory routers);

  // Returns how long until this rollout needs another look (InfiniteDuration:
  // only on a change). Errors are transient; the caller retries with backoff.
  absl::StatusOr<absl::Duration> Reconcile(const std::string& ns, const std::string& name,
                                           absl::Time now);

  // Writes `status` guarded by the object's resourceVersion (ABORTED on a
  // concurrent write).
  absl::StatusOr<CanaryRollout> WriteStatus(const CanaryRollout& rollout,
                                            const RolloutStatus& status);

 private:
  const kube::KubeClient& client_;
  RouterFactory routers_;
};

// FAILED_PRECONDITION / NOT_FOUND from a router: the mesh objects do not fit
// the rollout, so retrying will not help.
bool IsRoutingConfigError(const absl::Status& status);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_RECONCILER_H_
