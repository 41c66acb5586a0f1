#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <span>
#include <utility>

#include "analysis/stats/evidence.h"
#include "analysis/stats/histogram.h"
#include "bench/judges.h"
#include "bench/null_scenarios.h"
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

TEST(StatsTest, TheBoundAgainstTheMarginsNullIsLonger) {
  // The benchmark's medium regression, 0.1% -> 0.5% with 40 of 200 req/s
  // on the canary: 35 s against "equal rates", 46 s against "at most 1.25
  // times" (the nearest null puts the baseline at 0.23%, the canary at
  // 1.25 times that), and never for a canary inside the margin.
  EXPECT_NEAR(MinimumDetectionSeconds(160, 40, 0.001, 0.005, 0.01, 0.1), 34.7,
              0.1);
  EXPECT_NEAR(MinimumDetectionSeconds(160, 40, 0.001, 0.005, 0.01, 0.1, 1.25),
              45.9, 0.1);
  EXPECT_TRUE(std::isinf(
      MinimumDetectionSeconds(160, 40, 0.001, 0.0012, 0.01, 0.1, 1.25)));
}

TEST(StatsTest, ThinningShareAndLogSumExp) {
  EXPECT_DOUBLE_EQ(CanaryEventShare(1, 80, 20), 0.2);
  EXPECT_DOUBLE_EQ(CanaryEventShare(4, 80, 20), 0.5);
  const double big[] = {1000, 1000};
  EXPECT_NEAR(LogSumExp(big), 1000 + std::log(2), 1e-12);
  EXPECT_DOUBLE_EQ(BernoulliKl(0.5, 0.5), 0);
}

TEST(StatsTest, EvidenceExplainsItselfBothWays) {
  // Declared independent events (maxBurst 1).
  // 20% canary, canary 5x worse: rolled back, interval above 1.
  std::vector<IntervalCounts> bad(40, IntervalCounts{800, 200, 1, 1.25, 0.2});
  Evidence worse = Evaluate(bad, 0.25, 0.01, 1);
  EXPECT_TRUE(worse.worse);
  EXPECT_FALSE(worse.not_worse);
  EXPECT_NEAR(worse.rate_ratio, 5, 1e-9);
  EXPECT_GT(worse.ratio_low, 1.25);
  EXPECT_LT(worse.ratio_low, 5);
  EXPECT_GT(worse.ratio_high, 5);
  // Canary at half the baseline's rate: not worse.
  std::vector<IntervalCounts> good(60, IntervalCounts{800, 200, 4, 0.5, 0.2});
  Evidence fine = Evaluate(good, 0.25, 0.01, 1);
  EXPECT_TRUE(fine.not_worse);
  EXPECT_FALSE(fine.worse);
  EXPECT_LT(fine.ratio_high, 1.25);
  // No events at all: no evidence either way.
  std::vector<IntervalCounts> quiet(40, IntervalCounts{800, 200, 0, 0, 0.2});
  Evidence none = Evaluate(quiet, 0.25, 0.01, 1);
  EXPECT_FALSE(none.worse || none.not_worse);
  EXPECT_TRUE(std::isnan(none.rate_ratio));
}

// P(count = k) for a Poisson number of bursts, each of exactly `size`
// events, with `mean` events expected; k < kMaxCount.
constexpr int kMaxCount = 400;
std::vector<double> BurstCountPmf(double mean, int size) {
  std::vector<double> pmf(kMaxCount, 0.0);
  const double bursts = mean / size;
  for (int n = 0; n * size < kMaxCount; ++n) {
    pmf[n * size] =
        std::exp(-bursts + n * std::log(bursts) - std::lgamma(n + 1));
  }
  return pmf;
}

// One earlier interval: quiet (the rising arm expects about one event next,
// so the second half of the mixture bets linearly) or busy (20 or more:
// both halves take the chord factor).
IntervalCounts History(bool busy) {
  return busy ? IntervalCounts{800, 200, 80, 20, 0.2}
              : IntervalCounts{800, 200, 1, 1, 0.2};
}

// E[e-value after the next interval] over e-value after `history`, summed
// exactly over both arms' counts, with the canary at the null's boundary
// r = ratio0: at most 1 is the supermartingale property.
double ExpectedGrowth(bool worse, double max_burst, bool busy,
                      double total_mean, int canary_burst, int baseline_burst) {
  const double na = 800, nb = 200, ratio0 = 1.25;
  const double theta0 = CanaryEventShare(ratio0, na, nb);
  const std::vector<double> canary =
      BurstCountPmf(theta0 * total_mean, canary_burst);
  const std::vector<double> baseline =
      BurstCountPmf((1 - theta0) * total_mean, baseline_burst);
  std::vector<IntervalCounts> intervals = {History(busy), {}};
  const double before =
      LogEProcess({intervals.data(), 1}, ratio0, worse, max_burst);
  double expected = 0;
  for (int x = 0; x < kMaxCount; ++x) {
    if (canary[x] < 1e-300) continue;
    for (int y = 0; y < kMaxCount; ++y) {
      if (baseline[y] < 1e-300) continue;
      intervals[1] = {na, nb, static_cast<double>(y), static_cast<double>(x),
                      0.2};
      expected +=
          canary[x] * baseline[y] *
          std::exp(LogEProcess(intervals, ratio0, worse, max_burst) - before);
    }
  }
  return expected;
}

TEST(StatsTest, EachIntervalMultipliesTheEValueByAtMostOneOnAverage) {
  // The validity argument checked by exact summation rather than
  // simulation: at the null's boundary, whatever the bursts' sizes up to
  // the declared bound in either arm, and whichever factor the history
  // chose, the e-value's expected growth in an interval is at most 1.
  for (bool worse : {true, false}) {
    for (bool busy : {false, true}) {
      for (double total_mean : {0.5, 4.0, 20.0}) {
        for (int canary_burst : {1, 5}) {
          for (int baseline_burst : {1, 5}) {
            const double growth = ExpectedGrowth(worse, 5, busy, total_mean,
                                                 canary_burst, baseline_burst);
            EXPECT_LE(growth, 1 + 1e-9)
                << "worse " << worse << ", busy " << busy << ", mean "
                << total_mean << ", bursts " << canary_burst << "/"
                << baseline_burst;
            EXPECT_GT(growth, 0.1);  // the sum covers the laws
          }
        }
      }
    }
    EXPECT_LE(ExpectedGrowth(worse, 1, false, 4.0, 1, 1), 1 + 1e-9);
  }
}

TEST(StatsTest, AnIntervalsExpectedGrowthExceedsOneWhenBurstsExceedTheBound) {
  // The same sum can fail: bursts of 20 in both arms under a bound of 5.
  for (bool worse : {true, false}) {
    for (bool busy : {false, true}) {
      EXPECT_GT(ExpectedGrowth(worse, 5, busy, 20.0, 20, 20), 1.01)
          << worse << busy;
    }
  }
}

TEST(StatsTest, TheLinearBetsGrowthPerEventFallsAsIntervalsFillUp) {
  for (auto [share0, share1] : {std::pair{0.2, 0.4}, std::pair{0.5, 0.9}}) {
    // Per event, with a sparse interval (1e-6 events), at burst 1 the bet
    // is the likelihood ratio and gathers the KL divergence.
    const double tiny = 1e-6;
    EXPECT_NEAR(
        LinearBetGrowth(share0, share1, 1, share1 * tiny, (1 - share1) * tiny) /
            tiny,
        BernoulliKl(share1, share0), 1e-5);
    for (double burst : {2.0, 5.0, 33.0}) {
      const double sparse =
          LinearBetGrowth(share0, share1, burst, share1 * tiny,
                          (1 - share1) * tiny) /
          tiny;
      EXPECT_GT(sparse, BernoulliKl(share1, share0) / burst);
      EXPECT_LT(sparse, BernoulliKl(share1, share0));
      const double busy = LinearBetGrowth(share0, share1, burst, share1 * 20,
                                          (1 - share1) * 20) /
                          20;
      EXPECT_LT(busy, sparse);
    }
  }
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

// Monte Carlo: continuous monitoring of long good rollouts, a fast subset
// of the null suite (bench/null_scenarios.cc; 20,000 runs each in
// //bench:null_suite). Each false-rollback rate must stay at or under the
// design level (alpha/2) plus two Monte-Carlo standard errors: 0.95% at
// 1000 runs, a bound the previous test's 3% would fail.
const bench::NullScenario& Find(const std::vector<bench::NullScenario>& all,
                                const std::string& name) {
  for (const bench::NullScenario& s : all) {
    if (s.scenario.name == name) return s;
  }
  ADD_FAILURE() << "no null scenario " << name;
  return all.front();
}

TEST(StatsSimulationTest, NullSuiteSubsetStaysAtTheDesignLevel) {
  const std::vector<bench::NullScenario> all = bench::NullScenarios();
  struct Case {
    std::string name;
    int runs;
  };
  const Case cases[] = {
      {"independent errors, 5%", 1000},
      {"independent errors, 1%, maxBurst 1", 1000},
      {"1% errors in bursts of exactly 5, both arms, maxBurst 5", 1000},
      {"0.5% errors in clusters of mean 10, both arms", 1000},
      {"0.5% errors in clusters of mean 20, baseline", 1000},
      {"0.5% errors in clusters of mean 5, canary", 1000},
      {"shared incident (x20 for 5 min)", 1000},
      {"r = 1+m for an hour, clusters of mean 10, both", 300},
      {"r = 1+m for an hour, independent, 1%, maxBurst 1", 300},
      {"r = 1+m for an hour, bursts of exactly 5, both, maxBurst 5", 300},
  };
  uint64_t seed = 1;
  for (const Case& c : cases) {
    const bench::NullScenario& scenario = Find(all, c.name);
    ASSERT_TRUE(scenario.covered) << c.name;
    const bench::NullTally t =
        bench::RunNull(scenario, bench::SmartCanary, c.runs, seed++);
    const double rollbacks = static_cast<double>(t.rollbacks) / t.runs;
    const double promotions = static_cast<double>(t.promotions) / t.runs;
    std::printf(
        "null %-50s maxBurst %g: false rollbacks %.2f%%, false "
        "promotions %.2f%%\n",
        c.name.c_str(), scenario.scenario.max_burst, 100 * rollbacks,
        100 * promotions);
    EXPECT_LE(rollbacks, bench::NullLimit(t.runs, bench::kRollbackLevel))
        << c.name;
    EXPECT_LE(promotions, bench::NullLimit(t.runs, bench::kPromotionLevel))
        << c.name;
  }
}

TEST(StatsSimulationTest, TheBoundBitesWhenBurstsExceedTheDeclaredBound) {
  // The same check fails when its assumption is broken: clusters of mean 10
  // judged with the default bound of 5, and the previous test that
  // estimated the dispersion instead of bounding it.
  const std::vector<bench::NullScenario> all = bench::NullScenarios();
  const bench::NullScenario& wrong =
      Find(all, "clusters of mean 10, both arms, default maxBurst 5");
  const bench::NullTally under =
      bench::RunNull(wrong, bench::SmartCanary, 400, 77);
  const bench::NullTally previous =
      bench::RunNull(Find(all, "0.5% errors in clusters of mean 10, both arms"),
                     bench::PreviousEstimatedDispersion, 1000, 78);
  std::printf("under-declared bound: %.1f%%; previous test: %.2f%%\n",
              100.0 * under.rollbacks / under.runs,
              100.0 * previous.rollbacks / previous.runs);
  EXPECT_GT(static_cast<double>(under.rollbacks) / under.runs,
            bench::NullLimit(under.runs, bench::kRollbackLevel));
  EXPECT_GT(static_cast<double>(previous.rollbacks) / previous.runs,
            bench::NullLimit(previous.runs, bench::kRollbackLevel));
}

TEST(StatsSimulationTest, CountingEveryErrorAsIndependentFailsUnderClusters) {
  // Why a burst bound exists: the per-event test rolls back good canaries
  // whose errors arrive in clusters of mean size 5 far more often than alpha.
  const std::vector<bench::NullScenario> all = bench::NullScenarios();
  const bench::NullTally t =
      bench::RunNull(Find(all, "0.5% errors in clusters of mean 5, both arms"),
                     bench::SmartCanaryPerEvent, 300, 99);
  const double rate = static_cast<double>(t.rollbacks) / t.runs;
  std::printf("per-event test, clusters of mean 5: false rollbacks %.1f%%\n",
              100 * rate);
  EXPECT_GT(rate, 5 * bench::kAlpha);
}

TEST(StatsSimulationTest, RegressionsAreDetectedNearTheInformationBound) {
  // Declared independent errors (maxBurst 1, true here) the test is near
  // the information bound; the default bound of 5 weighs each event as a
  // fifth and costs about five times that (docs/STATISTICS.md).
  struct Case {
    double rps, baseline, canary;
  };
  for (double max_burst : {1.0, stats::kDefaultMaxBurst}) {
    for (const Case& c : {Case{200, 0.001, 0.01}, Case{200, 0.005, 0.05},
                          Case{2000, 0.001, 0.005}}) {
      Scenario bad;
      bad.bad = true;
      bad.total_rps = c.rps;
      bad.baseline_rate = c.baseline;
      bad.canary_rate = c.canary;
      bad.plan = {{1800, 0.2}};
      bad.max_burst = max_burst;
      std::mt19937_64 random(7);
      int detected = 0;
      double total_seconds = 0;
      constexpr int kRuns = 200;
      for (int i = 0; i < kRuns; ++i) {
        const double at = bench::SmartCanary(bad, bench::Simulate(bad, random))
                              .rollback_second;
        if (at >= 0) {
          ++detected;
          total_seconds += at;
        }
      }
      const double bound = MinimumDetectionSeconds(
          c.rps * 0.8, c.rps * 0.2, c.baseline, c.canary, bench::kAlpha, 0);
      const double mean = total_seconds / std::max(detected, 1);
      std::printf(
          "maxBurst %g, regression %.3f%% -> %.3f%% at %.0f req/s: detected "
          "%d/%d, mean %.0f s, bound %.0f s (%.1fx)\n",
          max_burst, 100 * c.baseline, 100 * c.canary, c.rps, detected, kRuns,
          mean, bound, mean / bound);
      EXPECT_EQ(detected, kRuns);
      // One 5 s interval of granularity on top.
      EXPECT_LT(mean, 3 * max_burst * bound + 5)
          << "slower than the burst bound explains";
    }
  }
}

// Share of requests slower than each boundary (10, 25, 50, 100, 250, 500,
// 1000 ms) of a good version, one whose median moved, and one whose tail
// grew.
using Profile = std::vector<double>;
const Profile kGood = {0.9, 0.7, 0.5, 0.2, 0.05, 0.01, 0.002};
const Profile kMedianShift = {0.95, 0.85, 0.75, 0.35, 0.07, 0.012, 0.0025};
const Profile kTailShift = {0.9, 0.7, 0.5, 0.2, 0.05, 0.04, 0.01};

// `intervals` 5 s intervals at 40 canary and 160 baseline req/s: per
// boundary, the intervals with events = requests slower than it.
std::vector<std::vector<IntervalCounts>> Histograms(const Profile& canary,
                                                    const Profile& baseline,
                                                    int intervals,
                                                    std::mt19937_64& random) {
  std::vector<std::vector<IntervalCounts>> out(canary.size());
  auto slower = [&](int64_t requests, const Profile& p) {
    // Nested binomials: slower than le_k is a subset of slower than
    // le_(k-1).
    std::vector<double> counts;
    int64_t above = requests;
    double previous = 1;
    for (double share : p) {
      above =
          std::binomial_distribution<int64_t>(above, share / previous)(random);
      previous = share;
      counts.push_back(static_cast<double>(above));
    }
    return counts;
  };
  for (int i = 0; i < intervals; ++i) {
    const std::vector<double> c = slower(200, canary),
                              b = slower(800, baseline);
    for (size_t k = 0; k < canary.size(); ++k)
      out[k].push_back(IntervalCounts{800, 200, b[k], c[k], 0.2});
  }
  return out;
}

TEST(HistogramTest, CatchesAMedianShiftOneObjectiveMisses) {
  std::mt19937_64 random(11);
  const auto h = Histograms(kMedianShift, kGood, 60, random);
  const HistogramEvidence e = EvaluateHistogram(h, 0.25, 0.01);
  EXPECT_TRUE(e.worse) << "log e " << e.log_e_worse;
  EXPECT_LE(e.worst_boundary, 3);  // a middle boundary, not the tail
  // The one-objective preset at 500 ms sees 1% -> 1.2%, inside the margin.
  EXPECT_FALSE(Evaluate(h[5], 0.25, 0.01).worse);
}

TEST(HistogramTest, CatchesATailShift) {
  std::mt19937_64 random(12);
  const auto h = Histograms(kTailShift, kGood, 60, random);
  const HistogramEvidence e = EvaluateHistogram(h, 0.25, 0.01);
  EXPECT_TRUE(e.worse) << "log e " << e.log_e_worse;
  EXPECT_GE(e.worst_boundary, 5);
  EXPECT_FALSE(e.not_worse);
}

TEST(HistogramTest, SameDistributionsRarelyRollBackAndProveNotWorse) {
  // 400 good rollouts of 15 min: the design level is 0.5%, so 2 expected;
  // 8 or more would be a 4x excess.
  std::mt19937_64 random(13);
  int rollbacks = 0, proven = 0;
  for (int run = 0; run < 400; ++run) {
    const auto h = Histograms(kGood, kGood, 180, random);
    const HistogramEvidence e = EvaluateHistogram(h, 0.25, 0.01);
    rollbacks += e.worse;
    proven += e.not_worse;
  }
  EXPECT_LT(rollbacks, 8);
  // The boundaries with 20% or more slower requests have the events to
  // prove "not worse" in 15 min (the rarer ones need longer).
  const auto good = Histograms(kGood, kGood, 180, random);
  EXPECT_TRUE(
      EvaluateHistogram(std::span(good).first(4), 0.25, 0.01).not_worse);
  std::printf("histogram null: %d/400 rolled back, %d proven not worse\n",
              rollbacks, proven);
}

}  // namespace
}  // namespace smartcanary::stats
