#ifndef SMARTCANARY_CONTROLLER_ISTIO_ROUTE_PATCH_H_
#define SMARTCANARY_CONTROLLER_ISTIO_ROUTE_PATCH_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "controller/rollout_spec.h"
#include "nlohmann/json.hpp"

// Pure JSON-Patch builders for the Istio objects a rollout owns a part of.
// Each patch touches only that part and carries the object's resourceVersion,
// so a concurrent edit makes the API server refuse it (409) instead of being
// overwritten. Errors are FAILED_PRECONDITION naming the object and what is
// missing.
namespace smartcanary::istio {

// Weights of the rollout's routes: canary gets `canary_weight`, stable the
// rest. Returns an empty array when the weights already match.
absl::StatusOr<nlohmann::json> VirtualServiceWeightPatch(
    const nlohmann::json& virtual_service, const TrafficRouting& routing,
    int canary_weight);

// The canary weight of the rollout's first route, as the object says now.
absl::StatusOr<int> VirtualServiceCanaryWeight(
    const nlohmann::json& virtual_service, const TrafficRouting& routing);

// Merges `labels` into the labels of the DestinationRule subset `subset`.
// Empty array when nothing changes.
absl::StatusOr<nlohmann::json> SubsetLabelsPatch(
    const nlohmann::json& destination_rule, const std::string& subset,
    const std::map<std::string, std::string>& labels);

// Merges `labels` into a Service's spec.selector (host-level routing).
absl::StatusOr<nlohmann::json> ServiceSelectorPatch(
    const nlohmann::json& service,
    const std::map<std::string, std::string>& labels);

// Host-level completion: the patch that makes the stable Service select the
// version being promoted. `labels` are the rollout's canaryLabels; when there
// are none, the canary Service's own selector. FAILED_PRECONDITION when the
// merged selector would not select every pod the canary Service selects:
// those pods are the ones known to be ready and serving (they carry the
// canary's traffic), so only such a selector can never leave stable without
// endpoints.
absl::StatusOr<nlohmann::json> PromotedSelectorPatch(
    const nlohmann::json& stable_service, const nlohmann::json& canary_service,
    const std::map<std::string, std::string>& labels);

}  // namespace smartcanary::istio

#endif  // SMARTCANARY_CONTROLLER_ISTIO_ROUTE_PATCH_H_
