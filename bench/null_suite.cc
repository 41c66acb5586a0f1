// null_suite: good canaries the judge must neither roll back nor promote
// early (issue 9), each scenario run many times, seeded. Writes
// docs/NULL-SUITE.md.
//   bazel run -c opt //bench:null_suite -- [--runs N] [--out DIR]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/judges.h"
#include "bench/null_scenarios.h"

namespace {

using smartcanary::bench::NullScenario;
using smartcanary::bench::NullTally;

constexpr int kPreviousRuns = 2000;

std::string Rate(const NullTally& t, int count) {
  const double p = static_cast<double>(count) / t.runs;
  const double se = std::sqrt(std::max(p, 1.0 / t.runs) * (1 - p) / t.runs);
  return absl::StrFormat("%.2f%% +- %.2f", 100 * p, 100 * se);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 20000;
  std::string out = "docs";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--runs") runs = std::atoi(argv[i + 1]);
    if (std::string(argv[i]) == "--out") out = argv[i + 1];
  }
  if (const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
      workspace && out[0] != '/') {
    out = std::string(workspace) + "/" + out;
  }
  const std::vector<NullScenario> scenarios =
      smartcanary::bench::NullScenarios();
  struct Row {
    NullTally ours, previous;
  };
  std::vector<Row> rows(scenarios.size());
  const auto start = std::chrono::steady_clock::now();
  // Two workers (two cores) take scenarios in turn.
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t s = next++; s < scenarios.size(); s = next++) {
      rows[s].ours = smartcanary::bench::RunNull(
          scenarios[s], smartcanary::bench::SmartCanary, runs, 9000 + s);
      // The previous test's rates are far above the design level; 2,000
      // runs resolve them and keep the 20,000-run suite to about 10 min.
      rows[s].previous = smartcanary::bench::RunNull(
          scenarios[s], smartcanary::bench::PreviousEstimatedDispersion,
          std::min(runs, kPreviousRuns), 9000 + s);
      std::fprintf(stderr, "%s: %d/%d\n", scenarios[s].scenario.name.c_str(),
                   rows[s].ours.rollbacks, runs);
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::string md = absl::StrFormat(
      "# Null suite: good canaries\n\n"
      "Made by `bazel run -c opt //bench:null_suite -- --runs %d` (%d seeded "
      "runs per scenario, %.0f s on 2 cores). 200 req/s, weights 20%% -> "
      "50%% -> 80%% for 300 s each (an hour, 20 min each, at r = 1+m), "
      "evaluated every 5 s, alpha 0.01, margin 0.25: the design level is "
      "0.5%% for rolling back and 0.25%% for promoting early (their shares "
      "of alpha). A rate passes when it is at most its design level plus "
      "two Monte-Carlo standard errors (%.2f%% and %.2f%% here). "
      "`covered`: inside the validity argument's assumptions "
      "(docs/STATISTICS.md); other rows are measured only. "
      "Errors are +- one standard error. The previous test (dispersion "
      "estimated from earlier intervals) is shown on the first %d of the "
      "same streams.\n\n"
      "| scenario | maxBurst | covered | false rollbacks | pass | previous "
      "test | false early promotions |\n|---|---|---|---|---|---|---|\n",
      runs, runs, seconds,
      100 * smartcanary::bench::NullLimit(runs,
                                          smartcanary::bench::kRollbackLevel),
      100 * smartcanary::bench::NullLimit(runs,
                                          smartcanary::bench::kPromotionLevel),
      std::min(runs, kPreviousRuns));
  const double limit =
      smartcanary::bench::NullLimit(runs, smartcanary::bench::kRollbackLevel);
  const double promotion_limit =
      smartcanary::bench::NullLimit(runs, smartcanary::bench::kPromotionLevel);
  for (size_t s = 0; s < scenarios.size(); ++s) {
    const Row& r = rows[s];
    const bool pass =
        static_cast<double>(r.ours.rollbacks) / runs <= limit &&
        static_cast<double>(r.ours.promotions) / runs <= promotion_limit;
    absl::StrAppend(
        &md,
        absl::StrFormat(
            "| %s | %g | %s | %s | %s | %s | %s |\n",
            scenarios[s].scenario.name, scenarios[s].scenario.max_burst,
            scenarios[s].covered ? "yes" : "no", Rate(r.ours, r.ours.rollbacks),
            pass ? "yes" : "**no**", Rate(r.previous, r.previous.rollbacks),
            scenarios[s].at_margin
                ? absl::StrCat(Rate(r.ours, r.ours.promotions), " (previous ",
                               Rate(r.previous, r.previous.promotions), ")")
                : "–"));
  }
  std::ofstream(out + "/NULL-SUITE.md") << md;
  std::printf("%s", md.c_str());
  return 0;
}
