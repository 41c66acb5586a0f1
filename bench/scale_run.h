#ifndef SMARTCANARY_BENCH_SCALE_RUN_H_
#define SMARTCANARY_BENCH_SCALE_RUN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/scale_report.h"
#include "controller/kube/kube_client.h"

namespace smartcanary::bench {

struct ScaleSetup {
  const kube::KubeClient* kube = nullptr;
  std::string kubeconfig_path;
  std::string canaryd;                     // binary
  std::string analyzer;                    // canary-analyzer binary
  std::vector<std::string> canaryd_flags;  // e.g. --workers=16
  std::string prometheus_url;              // a real Prometheus
  int ramp_aborts = 20;  // one at a time while the rollouts ramp to 20%
  int aborts = 50;       // sent one at a time afterwards
  int burst = 50;
  // Aborts one at a time right after a kill -9 and restart of canaryd;
  // zero: no restart.
  int restart_aborts = 10;  // sent at once (at most one per plain rollout)
  // How often the deadline template measures.
  absl::Duration deadline_interval = absl::Seconds(5);
};

// One run at `rollouts` rollouts in a namespace of its own, with a fresh
// canaryd, canary-analyzer and silent Prometheus (all stopped at the end;
// the namespace is left for the cluster's teardown). 10% of the rollouts
// have a background analysis that hangs, max(5, 5%) one that fails at a
// deadline, the rest none.
absl::StatusOr<ScaleResult> RunScale(const ScaleSetup& setup, int rollouts);

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_SCALE_RUN_H_
