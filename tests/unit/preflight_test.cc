// Pre-flight: detection times from the information bound with the judge's
// burst inflation, walked along the plan.
#include "analysis/preflight.h"

#include <gtest/gtest.h>

#include <cmath>

#include "analysis/backtest.h"
#include "analysis/counter_rate.h"

namespace smartcanary::analysis {
namespace {

double Kl(double p, double q) {
  return p * std::log(p / q) + (1 - p) * std::log((1 - p) / (1 - q));
}

PreflightInput Input(std::vector<PreflightStep> plan) {
  PreflightInput in;
  in.requests_per_second = 200;
  in.error_rate = 0.01;
  in.plan = std::move(plan);
  return in;
}

TEST(Preflight, RegressionTimeIsTheInformationBoundWithBurstInflation) {
  // 10 s intervals hold 8 canary events under r = 2: busy, so the judge
  // uses the chord factor throughout.
  PreflightInput in = Input({{0.2, absl::InfiniteDuration()}});
  in.interval = absl::Seconds(10);
  auto result = Preflight(in);
  ASSERT_TRUE(result.ok()) << result.status();
  // Written out: 40 canary and 160 baseline req/s; under r = 2 events come
  // at 0.01 (160 + 80) per second, a share 80/240 from the canary, against
  // 50/210 at r0 = 1.25; each event counts 1/5.
  const double information = 0.01 * 240 * Kl(80.0 / 240, 50.0 / 210) / 5;
  const double needed = Kl(0.9, 0.01 * 0.5);
  EXPECT_NEAR(absl::ToDoubleSeconds(result->regression_detected),
              needed / information, 1e-6);
  // An equal canary against r0 = 1.25, at alpha x 0.25.
  const double equal = 0.01 * 200 * Kl(40.0 / 200, 50.0 / 210) / 5;
  EXPECT_NEAR(absl::ToDoubleSeconds(result->not_worse_proven),
              Kl(0.9, 0.01 * 0.25) / equal, 1e-6);
  EXPECT_TRUE(result->regression_within_plan);
  EXPECT_EQ(result->plan_length, absl::InfiniteDuration());
}

TEST(Preflight, SparseIntervalsCountTheSwitchedProcesssGrowth) {
  // 0.1% errors: under r = 2 the canary sees 40 x 0.002 x 5 = 0.4 events an
  // interval, so the judge's switched process bets linearly on it; the
  // pre-flight takes the larger of the two growths per event.
  PreflightInput in = Input({{0.2, absl::InfiniteDuration()}});
  in.error_rate = 0.001;
  auto result = Preflight(in);
  ASSERT_TRUE(result.ok()) << result.status();
  const double theta = 80.0 / 240, theta0 = 50.0 / 210;
  const double events = 0.001 * 240;
  // 0.4 canary and 0.8 baseline events an interval, 5 s long.
  const double linear = stats::LinearBetGrowth(theta0, theta, 5, 0.4, 0.8) / 5;
  EXPECT_GT(linear, events * Kl(theta, theta0) / 5);
  EXPECT_NEAR(absl::ToDoubleSeconds(result->regression_detected),
              Kl(0.9, 0.01 * 0.5) / linear, 1e-6);
  // A 60 s interval holds 4.8 canary events: the chord factor again.
  in.interval = absl::Seconds(60);
  EXPECT_NEAR(absl::ToDoubleSeconds(Preflight(in)->regression_detected),
              Kl(0.9, 0.01 * 0.5) / (events * Kl(theta, theta0) / 5), 1e-6);
  in.interval = absl::ZeroDuration();
  EXPECT_EQ(Preflight(in).status().message(),
            "interval: must be positive and finite");
}

TEST(Preflight, InformationAccumulatesAcrossSteps) {
  auto one = Preflight(Input({{0.5, absl::InfiniteDuration()}}));
  auto two = Preflight(
      Input({{0.2, absl::Seconds(60)}, {0.5, absl::InfiniteDuration()}}));
  ASSERT_TRUE(one.ok() && two.ok());
  // 60 s at 20% gives some information, so the rest at 50% is shorter than
  // the whole at 50% but the total is longer than 60 s of it.
  EXPECT_GT(two->regression_detected, absl::Seconds(60));
  EXPECT_LT(two->regression_detected - absl::Seconds(60),
            one->regression_detected);
}

TEST(Preflight, APlanTooShortSaysSo) {
  PreflightInput in = Input({{0.05, absl::Seconds(30)}, {0, absl::Hours(1)}});
  in.requests_per_second = 2;
  auto result = Preflight(in);
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->regression_within_plan);
  EXPECT_EQ(result->regression_detected, absl::InfiniteDuration());
  EXPECT_EQ(result->plan_length, absl::Seconds(30) + absl::Hours(1));
  EXPECT_NE(result->message.find("the plan ends before a 2x regression could "
                                 "show"),
            std::string::npos)
      << result->message;
  // Said in words, not as a time of "never".
  EXPECT_NE(result->message.find("2x regression does not show within the plan"),
            std::string::npos)
      << result->message;
  EXPECT_EQ(result->message.find(">= never"), std::string::npos);
}

TEST(Preflight, NoErrorsAndWideMarginsNeverShow) {
  PreflightInput in = Input({{0.5, absl::InfiniteDuration()}});
  in.error_rate = 0;
  auto quiet = Preflight(in);
  ASSERT_TRUE(quiet.ok());
  EXPECT_FALSE(quiet->regression_within_plan);
  EXPECT_NE(quiet->message.find("no errors"), std::string::npos);
  in = Input({{0.5, absl::InfiniteDuration()}});
  in.margin = 1.5;  // 2x is inside the margin
  EXPECT_FALSE(Preflight(in)->regression_within_plan);
  in.margin = 0;  // not worse than 1x can never be proven
  EXPECT_FALSE(Preflight(in)->not_worse_within_plan);
}

TEST(Preflight, BadInputNamesTheField) {
  PreflightInput in =
      Input({{0.5, absl::Seconds(10)}, {1.5, absl::Seconds(1)}});
  EXPECT_EQ(Preflight(in).status().message(),
            "plan[1].canary_share: must be a fraction in [0, 1]");
  in = Input({});
  in.alpha = 0;
  EXPECT_EQ(Preflight(in).status().message(), "alpha: must be in (0, 1)");
  in = Input({});
  in.error_rate = -1;
  EXPECT_EQ(Preflight(in).status().message(),
            "error_rate: must be a fraction in [0, 1]");
  in = Input({});
  in.requests_per_second = NAN;
  EXPECT_FALSE(Preflight(in).ok());
}

// The bound against the judge itself: on expected counts of a 2x
// regression (no noise), the real judge rolls back no sooner than the
// information bound allows and within 3x of it.
TEST(Preflight, TheJudgeNeedsAtLeastTheBoundAndNotMuchMore) {
  auto bound = Preflight(Input({{0.5, absl::InfiniteDuration()}}));
  ASSERT_TRUE(bound.ok());
  const double needed = absl::ToDoubleSeconds(bound->regression_detected);
  std::vector<TimedInterval> intervals;
  // 200 req/s half each: 500 requests an arm per 5 s, up to 3x the bound.
  for (int k = 1; k <= static_cast<int>(needed * 3 / 5) + 1; ++k) {
    TimedInterval t;
    t.end_seconds = 5 * k;
    t.counts = {500, 500, 0.01 * 500, 0.02 * 500, 0.5};
    intervals.push_back(t);
  }
  BacktestParams params;
  params.judge_every = 4;
  auto result = RunBacktest(intervals, params);
  ASSERT_TRUE(result.ok());
  ASSERT_GT(result->first_rollback, 0);
  const double judged = 5.0 * result->first_rollback;
  EXPECT_GE(judged, needed * 0.9);
  EXPECT_LE(judged, needed * 3);
}

TEST(CounterRate, IncreasePerSecondThroughAReset) {
  EXPECT_FALSE(CounterRate({}).has_value());
  EXPECT_FALSE(CounterRate({{100, 5}}).has_value());
  EXPECT_DOUBLE_EQ(*CounterRate({{100, 0}, {110, 50}, {120, 100}}), 5);
  // A restart at 20 counts 20, not -80.
  EXPECT_DOUBLE_EQ(*CounterRate({{100, 0}, {110, 100}, {120, 20}}), 6);
}

}  // namespace
}  // namespace smartcanary::analysis
