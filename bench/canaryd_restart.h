#ifndef SMARTCANARY_BENCH_CANARYD_RESTART_H_
#define SMARTCANARY_BENCH_CANARYD_RESTART_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/scale_report.h"
#include "controller/kube/kube_client.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::bench {

struct RestartSetup {
  const kube::KubeClient* kube = nullptr;
  std::string ns;
  int rollouts = 0;
  testing::ChildProcess* canaryd = nullptr;  // running; killed and restarted
  int grpc_port = 0;
  int http_port = 0;
  // Rollouts at 20% to abort one at a time as soon as the fresh canaryd is
  // ready, while it is still re-reconciling everything.
  std::vector<std::string> abort_targets;
};

// kill -9 of canaryd, then the same command line again with all rollouts
// in place: times to ready and to every rollout reconciled, aborts during
// that, and the fresh process's RSS, CPU and API requests until both are
// over.
absl::Status MeasureRestart(const RestartSetup& setup, RestartResult& result);

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_CANARYD_RESTART_H_
