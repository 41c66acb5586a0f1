#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "analysis/stats/evidence.h"
#include "bench/judges.h"
#include "bench/simulation.h"

namespace smartcanary::stats {
namespace {

using bench::Scenario;

TEST(StatsTest, WorkedExamplesOfTheInformationBound) {
  // STATISTICS.md: 0.1% -> 1% at 10 req/s, alpha 0.01: about 38 s beside the
  // rest of the fleet (190 req/s), about 108 s beside an equal baseline.
  EXPECT_NEAR(MinimumDetectionSeconds(190, 10, 0.001, 0.01, 0.01, 0), 37.6,
              0.5);
  EXPECT_NEAR(MinimumDetectionSeconds(10, 10, 0.001, 0.01, 0.01, 0), 107.8,
              1.0);
  // A 0.1% -> 0.2% regression at 10 req/s needs tens of minutes.
  EXPECT_GT(MinimumDetectionSeconds(190, 10, 0.001, 0.002, 0.01, 0), 20 * 60);
}

TEST(StatsTest, ThinningShareAndLogSumExp) {
  EXPECT_DOUBLE_EQ(CanaryEventShare(1, 80, 20), 0.2);
  EXPECT_DOUBLE_EQ(CanaryEventShare(4, 80, 20), 0.5);
  const double big[] = {1000, 1000};
  EXPECT_NEAR(LogSumExp(big), 1000 + std::log(2), 1e-12);
  EXPECT_DOUBLE_EQ(BernoulliKl(0.5, 0.5), 0);
}

TEST(StatsTest, EvidenceExplainsItselfBothWays) {
  // 20% canary, canary 5x worse: rolled back, interval above 1.
  std::vector<IntervalCounts> bad(40, IntervalCounts{800, 200, 1, 1.25, 0.2});
  Evidence worse = Evaluate(bad, 0.25, 0.01);
  EXPECT_TRUE(worse.worse);
  EXPECT_FALSE(worse.not_worse);
  EXPECT_NEAR(worse.rate_ratio, 5, 1e-9);
  EXPECT_GT(worse.ratio_low, 1.25);
  EXPECT_LT(worse.ratio_low, 5);
  EXPECT_GT(worse.ratio_high, 5);
  // Canary at half the baseline's rate: not worse.
  std::vector<IntervalCounts> good(60, IntervalCounts{800, 200, 4, 0.5, 0.2});
  Evidence fine = Evaluate(good, 0.25, 0.01);
  EXPECT_TRUE(fine.not_worse);
  EXPECT_FALSE(fine.worse);
  EXPECT_LT(fine.ratio_high, 1.25);
  // No events at all: no evidence either way.
  std::vector<IntervalCounts> quiet(40, IntervalCounts{800, 200, 0, 0, 0.2});
  Evidence none = Evaluate(quiet, 0.25, 0.01);
  EXPECT_FALSE(none.worse || none.not_worse);
  EXPECT_TRUE(std::isnan(none.rate_ratio));
}

TEST(StatsTest, RoutingCheckCatchesAWrongSplitOnly) {
  double observed = 0, configured = 0;
  std::vector<IntervalCounts> right(30, IntervalCounts{800, 200, 0, 0, 0.2});
  EXPECT_FALSE(RoutingMismatch(right, 0.02, 0.01, &observed, &configured));
  EXPECT_NEAR(observed, 0.2, 1e-12);
  std::vector<IntervalCounts> wrong(30, IntervalCounts{650, 350, 0, 0, 0.2});
  EXPECT_TRUE(RoutingMismatch(wrong, 0.02, 0.01, &observed, &configured));
  EXPECT_NEAR(observed, 0.35, 1e-12);
  EXPECT_NEAR(configured, 0.2, 1e-12);
}

// Monte Carlo: continuous monitoring of long good rollouts. The false
// rollback rate must stay at or under alpha within Monte-Carlo error.
double FalseRollbackRate(
    const Scenario& scenario,
    bench::Verdict (*judge)(const Scenario&, const std::vector<bench::Second>&),
    int runs, uint64_t seed) {
  std::mt19937_64 random(seed);
  int rolled_back = 0;
  for (int i = 0; i < runs; ++i) {
    if (judge(scenario, bench::Simulate(scenario, random)).rollback_second >= 0)
      ++rolled_back;
  }
  return static_cast<double>(rolled_back) / runs;
}

struct NullCase {
  const char* name;
  Scenario scenario;
};

Scenario Good() {
  Scenario s;
  s.total_rps = 200;
  s.baseline_rate = s.canary_rate = 0.005;
  s.plan = {
      {300, 0.2}, {600, 0.5}, {900, 0.8}};  // weights change between steps
  return s;
}

std::vector<NullCase> NullCases() {
  std::vector<NullCase> cases;
  cases.push_back({"independent", Good()});
  Scenario swing = Good();
  swing.diurnal_amplitude = 0.8;
  swing.diurnal_period_s = 300;
  cases.push_back({"strong shared time-of-day swing", swing});
  for (double size : {1.5, 2.0, 5.0}) {
    Scenario clustered = Good();
    clustered.cluster_mean = size;
    cases.push_back({"canary errors in clusters", clustered});
    Scenario baseline_clusters = clustered;
    baseline_clusters.cluster_baseline = true;
    cases.push_back({"baseline errors in clusters", baseline_clusters});
  }
  for (double size : {1.0, 5.0}) {
    Scenario rare = Good();
    rare.baseline_rate = rare.canary_rate = 0.001;  // arms often without events
    rare.cluster_mean = size;
    cases.push_back({"rare errors (0.1%), canary clusters", rare});
    rare.cluster_baseline = true;
    cases.push_back({"rare errors (0.1%), baseline clusters", rare});
  }
  Scenario incident = Good();
  incident.incident_start_s = 200;
  incident.incident_seconds = 300;
  incident.incident_multiplier = 20;
  cases.push_back({"shared incident (x20 for 5 min)", incident});
  return cases;
}

TEST(StatsSimulationTest,
     FalseRollbacksStayUnderAlphaUnderDependenceSwingsAndIncidents) {
  constexpr int kRuns = 1000;
  const double limit =
      bench::kAlpha +
      3 * std::sqrt(bench::kAlpha * (1 - bench::kAlpha) / kRuns);
  uint64_t seed = 1;
  for (const NullCase& c : NullCases()) {
    const double rate =
        FalseRollbackRate(c.scenario, bench::SmartCanary, kRuns, seed++);
    std::printf("null %-34s cluster %.1f: false rollbacks %.2f%%\n", c.name,
                c.scenario.cluster_mean, 100 * rate);
    EXPECT_LE(rate, limit) << c.name << " (cluster mean "
                           << c.scenario.cluster_mean << ")";
  }
}

TEST(StatsSimulationTest, CountingEveryErrorAsIndependentFailsUnderClusters) {
  // Why the remedy exists: the per-event test rolls back good canaries
  // whose errors arrive in clusters of mean size 5 far more often than alpha.
  Scenario clustered = Good();
  clustered.cluster_mean = 5;
  const double rate =
      FalseRollbackRate(clustered, bench::SmartCanaryPerEvent, 300, 99);
  std::printf("per-event test, clusters of mean 5: false rollbacks %.1f%%\n",
              100 * rate);
  EXPECT_GT(rate, 5 * bench::kAlpha);
}

TEST(StatsSimulationTest, RegressionsAreDetectedNearTheInformationBound) {
  struct Case {
    double rps, baseline, canary;
  };
  for (const Case& c : {Case{200, 0.001, 0.01}, Case{200, 0.005, 0.05},
                        Case{2000, 0.001, 0.005}}) {
    Scenario bad = Good();
    bad.bad = true;
    bad.total_rps = c.rps;
    bad.baseline_rate = c.baseline;
    bad.canary_rate = c.canary;
    bad.plan = {{1800, 0.2}};
    std::mt19937_64 random(7);
    int detected = 0;
    double total_seconds = 0;
    constexpr int kRuns = 200;
    for (int i = 0; i < kRuns; ++i) {
      const double at =
          bench::SmartCanary(bad, bench::Simulate(bad, random)).rollback_second;
      if (at >= 0) {
        ++detected;
        total_seconds += at;
      }
    }
    const double bound = MinimumDetectionSeconds(
        c.rps * 0.8, c.rps * 0.2, c.baseline, c.canary, bench::kAlpha, 0);
    const double mean = total_seconds / std::max(detected, 1);
    std::printf(
        "regression %.3f%% -> %.3f%% at %.0f req/s: detected %d/%d, mean %.0f "
        "s, bound %.0f s "
        "(%.1fx)\n",
        100 * c.baseline, 100 * c.canary, c.rps, detected, kRuns, mean, bound,
        mean / bound);
    EXPECT_EQ(detected, kRuns);
    EXPECT_LT(mean, 10 * bound + 30) << "far slower than the physics allows";
  }
}

}  // namespace
}  // namespace smartcanary::stats
