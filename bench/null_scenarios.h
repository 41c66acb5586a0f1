#ifndef SMARTCANARY_BENCH_NULL_SCENARIOS_H_
#define SMARTCANARY_BENCH_NULL_SCENARIOS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "bench/judges.h"
#include "bench/simulation.h"

// Good canaries the judge must not roll back (and, at r = 1 + margin, must
// not promote early): the null suite of issue 9, shared by the benchmark
// (bench/null_suite.cc, 20,000 runs each) and its fast subset in
// tests/unit/stats_test.cc.
namespace smartcanary::bench {

struct NullScenario {
  Scenario scenario;
  // At r = 1 + margin "not worse" is false too: count early promotions.
  bool at_margin = false;
  // Inside the validity argument's assumptions (bursts within the declared
  // bound, independent given the traffic); false rows are measured only.
  bool covered = true;
};

// The declared burst bound that covers geometric bursts of the given mean
// for every weight (docs/STATISTICS.md, "Validity").
double CoveringMaxBurst(double cluster_mean);

std::vector<NullScenario> NullScenarios();

struct NullTally {
  int runs = 0, rollbacks = 0, promotions = 0;
};

// Runs `runs` seeded simulations of one scenario through `judge`; a
// promotion counts only where `at_margin`.
NullTally RunNull(const NullScenario& scenario,
                  Verdict (*judge)(const Scenario&, const std::vector<Slot>&),
                  int runs, uint64_t seed);

// Each side's design level (its share of alpha: 0.5% for rolling back,
// 0.25% for promoting early) and the largest observed rate still
// consistent with it: design + 2 Monte-Carlo standard errors.
inline constexpr double kRollbackLevel = kAlpha * stats::kRollbackShare;
inline constexpr double kPromotionLevel = kAlpha * stats::kPromotionShare;
double NullLimit(int runs, double level);

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_NULL_SCENARIOS_H_
