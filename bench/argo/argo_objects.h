#ifndef SMARTCANARY_BENCH_ARGO_ARGO_OBJECTS_H_
#define SMARTCANARY_BENCH_ARGO_ARGO_OBJECTS_H_

#include <string>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

// The objects of the side-by-side benchmark. Both controllers get the same
// plan (setWeight 20, pause, setWeight 50, pause, 100) over the same
// subset-level VirtualService and DestinationRule (bench/scale_objects.h),
// and the same failing analysis: Prometheus asked `vector(time())` with
// successCondition `result[0] < fail_at` every `interval`, no failure
// allowed.
namespace smartcanary::bench::argo {

inline constexpr char kArgoApi[] = "/apis/argoproj.io/v1alpha1";

// The plan's steps as both CRDs spell them.
nlohmann::json PlanSteps();

// A CanaryRollout (canaryd) with the plan; with the deadline analysis from
// the first pause on when `fail_at` is set.
nlohmann::json CanaryRollout(const std::string& ns, const std::string& name,
                             const absl::Time* fail_at);

// An Argo Rollout of one replica with the plan under Istio subset routing,
// its pods at `revision` (a pod-template annotation: a new revision starts
// a canary; the first one is deployed at once, as Argo does), with the
// deadline analysis from the first pause on when `fail_at` is set.
nlohmann::json ArgoRollout(const std::string& ns, const std::string& name,
                           int revision, const absl::Time* fail_at);

// The merge patch that moves an Argo Rollout to `revision` (starting a
// canary), with the deadline analysis when `fail_at` is set.
nlohmann::json ArgoRevisionPatch(int revision, const absl::Time* fail_at);

// Argo's AnalysisTemplate with the deadline metric, named as the scale
// benchmark's CanaryAnalysisTemplate (DeadlineTemplate, used for canaryd).
nlohmann::json ArgoDeadlineTemplate(const std::string& ns,
                                    const std::string& prometheus_url,
                                    absl::Duration interval);

// What `kubectl argo rollouts abort` sends to the Rollout's status
// subresource (a merge patch).
nlohmann::json ArgoAbortPatch();

}  // namespace smartcanary::bench::argo

#endif  // SMARTCANARY_BENCH_ARGO_ARGO_OBJECTS_H_
