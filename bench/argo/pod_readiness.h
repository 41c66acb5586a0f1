#ifndef SMARTCANARY_BENCH_ARGO_POD_READINESS_H_
#define SMARTCANARY_BENCH_ARGO_POD_READINESS_H_

#include <optional>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

// What a kubelet would report for a pod whose containers started and passed
// their readiness probes. No kubelet can run on the benchmark's machine, and
// Argo Rollouts sets canary weights only once the canary ReplicaSet is
// available, so the pod-readiness stand-in writes this status instead.
namespace smartcanary::bench::argo {

// The merge patch for the pod's status subresource that makes it Running
// and Ready (every container of its spec running and ready) at `now`;
// nullopt when it already is, or when it is being deleted or has no
// containers (nothing a kubelet would start).
std::optional<nlohmann::json> ReadyPatch(const nlohmann::json& pod,
                                         absl::Time now);

}  // namespace smartcanary::bench::argo

#endif  // SMARTCANARY_BENCH_ARGO_POD_READINESS_H_
