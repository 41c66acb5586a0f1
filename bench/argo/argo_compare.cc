// The side-by-side benchmark: canaryd and Argo Rollouts' controller, one
// after the other on one API server, at N = 10, 100, 1,000 rollouts (see
// docs/PERFORMANCE.md; run by bench/argo/compare.sh, which brings up the
// control plane and kube-controller-manager).
#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/argo/compare_report.h"
#include "bench/argo/compare_run.h"
#include "bench/bench_environment.h"
#include "tests/integration/cluster_fixture.h"

ABSL_FLAG(std::string, rollouts, "10,100,1000", "rollout counts, in order");
ABSL_FLAG(std::string, out, "", "write the Markdown results here");
ABSL_FLAG(std::string, log_dir, "/tmp/argo-compare",
          "logs of the controllers, the analyzer, the stand-in, Prometheus");
ABSL_FLAG(std::string, canaryd, "", "canaryd binary; empty: from runfiles");
ABSL_FLAG(std::string, analyzer, "",
          "canary-analyzer binary; empty: from runfiles");
ABSL_FLAG(std::string, standin, "",
          "pod-readiness stand-in binary; empty: from runfiles");
ABSL_FLAG(
    std::string, argo_controller, "",
    "Argo Rollouts' rollouts-controller binary (scripts/build-fixtures.sh)");
ABSL_FLAG(int, aborts, 100, "at most this many aborts per run, one at a time");

namespace {

std::string OrRunfile(const std::string& given, const std::string& runfile) {
  return given.empty() ? smartcanary::testing::RunfilePath(runfile) : given;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  smartcanary::bench::UseBenchEnvironment(argv[0],
                                          absl::GetFlag(FLAGS_log_dir));
  const char* kubeconfig = std::getenv("KUBECONFIG");
  if (kubeconfig == nullptr) {
    std::fprintf(stderr, "KUBECONFIG is not set: run bench/argo/compare.sh\n");
    return 2;
  }
  namespace argo = smartcanary::bench::argo;
  namespace testing = smartcanary::testing;
  argo::CompareSetup setup;
  setup.kube = &testing::Kube();
  setup.kubeconfig_path = kubeconfig;
  setup.canaryd = OrRunfile(absl::GetFlag(FLAGS_canaryd), "controller/canaryd");
  setup.analyzer =
      OrRunfile(absl::GetFlag(FLAGS_analyzer), "analysis/canary-analyzer");
  setup.standin =
      OrRunfile(absl::GetFlag(FLAGS_standin), "bench/argo/pod_ready_standin");
  setup.argo = absl::GetFlag(FLAGS_argo_controller);
  if (setup.argo.empty()) {
    std::fprintf(stderr,
                 "--argo_controller: empty; give the rollouts-controller "
                 "that scripts/build-fixtures.sh built\n");
    return 2;
  }
  setup.aborts = absl::GetFlag(FLAGS_aborts);
  if (setup.aborts < 1) {
    std::fprintf(stderr, "--aborts: must be at least 1\n");
    return 2;
  }
  // No scrape targets: the failing analysis asks only vector(time()).
  testing::PrometheusProcess prometheus({});
  setup.prometheus_url = prometheus.url();

  // A failed N ends the runs; those done are still written, with the error,
  // so that a long run at 1,000 does not lose the figures at 10 and 100.
  std::vector<argo::ComparePair> pairs;
  std::string failure;
  auto counts =
      smartcanary::bench::ParseRolloutCounts(absl::GetFlag(FLAGS_rollouts), 2);
  if (!counts.ok()) {
    std::fprintf(stderr, "%s\n", counts.status().ToString().c_str());
    return 2;
  }
  for (int n : *counts) {
    argo::ComparePair pair;
    for (auto [controller, side] :
         {std::pair{argo::Controller::kCanaryd, &pair.ours},
          std::pair{argo::Controller::kArgo, &pair.argo}}) {
      auto result = argo::RunSide(setup, controller, n);
      if (!result.ok()) {
        failure = absl::StrFormat(
            "%d rollouts, %s: %s", n,
            controller == argo::Controller::kArgo ? "Argo Rollouts" : "canaryd",
            result.status().ToString());
        break;
      }
      *side = *std::move(result);
    }
    if (!failure.empty()) break;
    pairs.push_back(std::move(pair));
  }
  if (!failure.empty()) std::fprintf(stderr, "%s\n", failure.c_str());
  if (pairs.empty()) return 1;
  std::string markdown = argo::RenderComparison(pairs);
  if (!failure.empty())
    markdown += absl::StrCat("\n**Not measured:** ", failure, "\n");
  const int exit_code =
      smartcanary::bench::PublishResults(markdown, absl::GetFlag(FLAGS_out));
  curl_global_cleanup();
  return exit_code;
}
