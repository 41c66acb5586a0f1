#ifndef SMARTCANARY_BENCH_ARGO_COMPARE_RUN_H_
#define SMARTCANARY_BENCH_ARGO_COMPARE_RUN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/apiserver_requests.h"
#include "controller/kube/kube_client.h"

// One controller's run of the side-by-side benchmark (docs/PERFORMANCE.md):
// N services with a subset-level VirtualService and DestinationRule each,
// rolled out with the plan setWeight 20, pause, setWeight 50, pause, 100.
namespace smartcanary::bench::argo {

enum class Controller { kCanaryd, kArgo };

struct CompareSetup {
  const kube::KubeClient* kube = nullptr;
  std::string kubeconfig_path;
  std::string canaryd;         // binary
  std::string analyzer;        // canary-analyzer binary
  std::string argo;            // Argo Rollouts' rollouts-controller binary
  std::string standin;         // the pod-readiness stand-in binary
  std::string prometheus_url;  // Debian's Prometheus
  int aborts = 100;            // at most this many, one at a time
  absl::Duration interval = absl::Seconds(1);  // of the failing analysis
};

struct SideResult {
  Controller controller = Controller::kCanaryd;
  int rollouts = 0;
  std::vector<double> abort_seconds;  // abort → the watch sees 100/0
  // The first failing measurement's query evaluation → the watch sees 100/0.
  std::vector<double> failure_seconds;
  int failed_samples = 0;  // aborts or verdicts never seen
  double peak_rss_mb = 0;  // over the controller's life
  // The largest RssAnon sampled every 100 ms from the end of the set-up
  // (every rollout created; Argo's first revisions deployed) to the end of
  // the window: the controller's own allocations, without the pages of
  // shared libraries that peak RSS counts.
  double peak_anon_mb = 0;
  double cpu_seconds = 0;   // over the measured window
  double wall_seconds = 0;  // the measured window
  int steps = 0;            // plan steps executed in the window
  RequestCounts requests;   // the controller's, in the window
};

// Runs the work for `controller` at `n` rollouts in a namespace of its own;
// the controller (and for Argo, the stand-in) is stopped at the end.
absl::StatusOr<SideResult> RunSide(const CompareSetup& setup,
                                   Controller controller, int n);

}  // namespace smartcanary::bench::argo

#endif  // SMARTCANARY_BENCH_ARGO_COMPARE_RUN_H_
