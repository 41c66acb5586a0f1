#ifndef SMARTCANARY_BENCH_CONTROL_BURST_H_
#define SMARTCANARY_BENCH_CONTROL_BURST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/kube/kube_client.h"

namespace smartcanary::bench {

// The API server alone under an abort burst's concurrency, as a control for
// it: `count` threads start at once, each reading and patching a ConfigMap
// of its own twice (an abort's two writes and the reads before them), on
// objects canaryd does not watch. Returns each thread's seconds.
absl::StatusOr<std::vector<double>> ControlBurst(const kube::KubeClient& kube,
                                                 const std::string& ns,
                                                 int count);

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_CONTROL_BURST_H_
