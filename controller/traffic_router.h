#ifndef SMARTCANARY_CONTROLLER_TRAFFIC_ROUTER_H_
#define SMARTCANARY_CONTROLLER_TRAFFIC_ROUTER_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace smartcanary {

// Moves real request traffic between stable and canary for one rollout. One
// implementation per mesh (Istio: controller/istio/). Every method is
// idempotent. FAILED_PRECONDITION or NOT_FOUND mean the mesh objects do not
// fit the rollout (the rollout degrades, nothing is patched); other errors
// are transient and retried.
class TrafficRouter {
 public:
  virtual ~TrafficRouter() = default;

  // Checks, without writing, that the mesh objects exist and have the routes
  // and destinations the rollout needs.
  virtual absl::Status Verify() = 0;
  // Points the canary destination at the version being rolled out.
  virtual absl::Status SelectCanary(
      const std::map<std::string, std::string>& labels) = 0;
  // Returns whether anything had to change: false when the objects already
  // held these weights (how drift from another writer is told apart).
  virtual absl::StatusOr<bool> SetCanaryWeight(int canary_weight) = 0;
  virtual absl::StatusOr<int> GetCanaryWeight() = 0;
  // After the last step: the stable destination takes the canary's labels so
  // that weights can return to stable 100 / canary 0.
  virtual absl::Status PromoteStable(
      const std::map<std::string, std::string>& labels) = 0;
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_TRAFFIC_ROUTER_H_
