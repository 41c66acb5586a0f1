#ifndef SMARTCANARY_CONTROLLER_ISTIO_ISTIO_ROUTER_H_
#define SMARTCANARY_CONTROLLER_ISTIO_ISTIO_ROUTER_H_

#include <functional>
#include <string>

#include "controller/kube/kube_api.h"
#include "controller/rollout_spec.h"
#include "controller/traffic_router.h"
#include "nlohmann/json.hpp"

namespace smartcanary::istio {

// Routes with an Istio VirtualService (weights) and either DestinationRule
// subsets (subset-level) or two Services (host-level).
class IstioRouter : public TrafficRouter {
 public:
  IstioRouter(const kube::KubeApi& client, std::string ns,
              TrafficRouting routing);

  absl::Status Verify() override;
  absl::Status SelectCanary(
      const std::map<std::string, std::string>& labels) override;
  absl::StatusOr<bool> SetCanaryWeight(int canary_weight) override;
  absl::StatusOr<int> GetCanaryWeight() override;
  absl::Status PromoteStable(
      const std::map<std::string, std::string>& labels) override;

 private:
  using PatchBuilder =
      std::function<absl::StatusOr<nlohmann::json>(const nlohmann::json&)>;
  // Read, build a guarded patch, apply; when the guard fails (someone changed
  // what this rollout owns) read again and rebuild only this rollout's
  // change. Returns whether a patch was applied.
  absl::StatusOr<bool> PatchWithRetry(const std::string& path,
                                      const PatchBuilder& build);
  std::string VirtualServicePath(const VirtualServiceRef& vs) const;
  // The routing as route_patch sees it for one VirtualService.
  TrafficRouting RoutingFor(const VirtualServiceRef& vs) const;
  absl::Status SetSelectorLabels(
      bool canary, const std::map<std::string, std::string>& labels);

  const kube::KubeApi& client_;
  std::string namespace_;
  TrafficRouting routing_;
};

}  // namespace smartcanary::istio

#endif  // SMARTCANARY_CONTROLLER_ISTIO_ISTIO_ROUTER_H_
