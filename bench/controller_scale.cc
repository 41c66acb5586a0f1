// The controller scale benchmark: canaryd on the real API server with 10,
// 100 and 1,000 concurrent rollouts (see docs/CONTROLLER-SCALE.md; run by
// bench/controller-scale.sh, which brings up the control plane).
#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "bench/bench_environment.h"
#include "bench/scale_report.h"
#include "bench/scale_run.h"
#include "controller/kube/kube_config.h"
#include "tests/integration/cluster_fixture.h"

ABSL_FLAG(std::string, rollouts, "10,100,1000", "rollout counts, in order");
ABSL_FLAG(std::string, out, "", "write the Markdown results here");
ABSL_FLAG(std::string, log_dir, "/tmp/controller-scale",
          "logs of canaryd, canary-analyzer and Prometheus");
ABSL_FLAG(std::string, canaryd, "", "canaryd binary; empty: from runfiles");
ABSL_FLAG(std::string, analyzer, "",
          "canary-analyzer binary; empty: from runfiles");
ABSL_FLAG(std::vector<std::string>, canaryd_flags, {},
          "more canaryd flags, comma-separated (e.g. --workers=16)");
ABSL_FLAG(int, ramp_aborts, 20,
          "aborts sent one at a time while the rollouts ramp, per run");
ABSL_FLAG(int, aborts, 50, "aborts sent one at a time per run");
ABSL_FLAG(int, burst, 50, "aborts sent at once per run");
ABSL_FLAG(int, restart_aborts, 10,
          "aborts sent one at a time right after canaryd restarts, per run; "
          "0: no restart");

namespace {}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  smartcanary::bench::UseBenchEnvironment(argv[0],
                                          absl::GetFlag(FLAGS_log_dir));
  const char* kubeconfig = std::getenv("KUBECONFIG");
  if (kubeconfig == nullptr) {
    std::fprintf(stderr,
                 "KUBECONFIG is not set: run bench/controller-scale.sh\n");
    return 2;
  }
  namespace bench = smartcanary::bench;
  namespace testing = smartcanary::testing;
  bench::ScaleSetup setup;
  setup.kube = &testing::Kube();
  setup.kubeconfig_path = kubeconfig;
  setup.canaryd = absl::GetFlag(FLAGS_canaryd);
  if (setup.canaryd.empty())
    setup.canaryd = testing::RunfilePath("controller/canaryd");
  setup.analyzer = absl::GetFlag(FLAGS_analyzer);
  if (setup.analyzer.empty())
    setup.analyzer = testing::RunfilePath("analysis/canary-analyzer");
  setup.canaryd_flags = absl::GetFlag(FLAGS_canaryd_flags);
  setup.ramp_aborts = absl::GetFlag(FLAGS_ramp_aborts);
  setup.aborts = absl::GetFlag(FLAGS_aborts);
  setup.burst = absl::GetFlag(FLAGS_burst);
  setup.restart_aborts = absl::GetFlag(FLAGS_restart_aborts);
  // No scrape targets: the deadline template asks only vector(time()).
  testing::PrometheusProcess prometheus({});
  setup.prometheus_url = prometheus.url();

  std::vector<bench::ScaleResult> results;
  auto counts =
      smartcanary::bench::ParseRolloutCounts(absl::GetFlag(FLAGS_rollouts), 1);
  if (!counts.ok()) {
    std::fprintf(stderr, "%s\n", counts.status().ToString().c_str());
    return 2;
  }
  for (int n : *counts) {
    auto result = bench::RunScale(setup, n);
    if (!result.ok()) {
      std::fprintf(stderr, "%d rollouts: %s\n", n,
                   result.status().ToString().c_str());
      return 1;
    }
    results.push_back(*result);
  }
  const std::string markdown = bench::RenderMarkdown(results);
  const int exit_code =
      smartcanary::bench::PublishResults(markdown, absl::GetFlag(FLAGS_out));
  curl_global_cleanup();
  return exit_code;
}
