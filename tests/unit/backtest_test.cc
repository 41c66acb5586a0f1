// The backtest replays the live judge: every decision is JudgeComparative
// on the prefix a live look would have seen.
#include "analysis/backtest.h"

#include <gtest/gtest.h>

#include "analysis/backtest_proto.h"

namespace smartcanary::analysis {
namespace {

std::vector<TimedInterval> Stream(int n, double canary_rate,
                                  double baseline_rate) {
  std::vector<TimedInterval> out;
  for (int k = 1; k <= n; ++k) {
    TimedInterval t;
    t.end_seconds = 1000 + 5 * k;
    t.counts.canary_requests = 200;
    t.counts.baseline_requests = 800;
    t.counts.canary_events = canary_rate * 200;
    t.counts.baseline_events = baseline_rate * 800;
    t.counts.configured_canary_share = 0.2;
    out.push_back(t);
  }
  return out;
}

TEST(Backtest, EachDecisionIsTheLiveJudgeOnItsPrefix) {
  const auto intervals = Stream(30, 0.05, 0.01);
  BacktestParams params;
  auto result = RunBacktest(intervals, params);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->decisions.size(), 30u);
  std::vector<stats::IntervalCounts> prefix;
  for (int k = 1; k <= 30; ++k) {
    prefix.push_back(intervals[k - 1].counts);
    const ComparativeVerdict live =
        JudgeComparative(prefix, params.alpha, params.margin, absl::Seconds(5),
                         absl::ZeroDuration(), absl::Seconds(5 * k));
    const BacktestDecision& d = result->decisions[k - 1];
    EXPECT_EQ(d.interval, k);
    EXPECT_EQ(d.end_seconds, 1000 + 5 * k);
    EXPECT_EQ(d.verdict.verdict.phase, live.verdict.phase) << k;
    EXPECT_EQ(d.verdict.verdict.message, live.verdict.message) << k;
    EXPECT_EQ(d.verdict.not_worse, live.not_worse) << k;
    const stats::Evidence e =
        stats::Evaluate(prefix, params.margin, params.alpha, params.max_burst);
    EXPECT_DOUBLE_EQ(d.log_e_worse, e.log_e_worse) << k;
    EXPECT_DOUBLE_EQ(d.log_e_not_worse, e.log_e_not_worse) << k;
  }
  EXPECT_GT(result->first_rollback, 0);
  EXPECT_EQ(result->decisions[result->first_rollback - 1].verdict.verdict.phase,
            MeasurementPhase::kFailed);
  for (int k = 1; k < result->first_rollback; ++k)
    EXPECT_NE(result->decisions[k - 1].verdict.verdict.phase,
              MeasurementPhase::kFailed);
  EXPECT_EQ(result->first_not_worse, 0);
  EXPECT_NE(result->summary.find("first rollback at interval"),
            std::string::npos)
      << result->summary;
}

TEST(Backtest, EqualArmsAreProvenNotWorseAndNeverRolledBack) {
  BacktestParams params;
  params.max_burst = 1;  // independent errors: enough evidence in 10 min
  auto result = RunBacktest(Stream(120, 0.05, 0.05), params);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->first_rollback, 0);
  EXPECT_GT(result->first_not_worse, 0);
  EXPECT_NE(result->summary.find("no rollback"), std::string::npos);
}

TEST(Backtest, JudgesEveryNthIntervalAndTheLast) {
  BacktestParams params;
  params.judge_every = 4;
  auto result = RunBacktest(Stream(10, 0.01, 0.01), params);
  ASSERT_TRUE(result.ok()) << result.status();
  std::vector<int> judged;
  for (const auto& d : result->decisions) judged.push_back(d.interval);
  EXPECT_EQ(judged, (std::vector<int>{4, 8, 10}));
}

TEST(Backtest, BadIntervalsNameTheIntervalAndField) {
  auto intervals = Stream(3, 0.01, 0.01);
  intervals[1].counts.canary_events = 500;
  auto result = RunBacktest(intervals, {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "intervals[1].canary_events: exceeds canary_requests");
  intervals = Stream(3, 0.01, 0.01);
  intervals[2].end_seconds = intervals[1].end_seconds;
  EXPECT_EQ(RunBacktest(intervals, {}).status().message(),
            "intervals[2].end_seconds: must be later than the previous "
            "interval's end");
  intervals = Stream(3, 0.01, 0.01);
  intervals[0].counts.configured_canary_share = 1.5;
  EXPECT_EQ(RunBacktest(intervals, {}).status().message(),
            "intervals[0].configured_canary_share: must be a fraction in [0, "
            "1]");
  EXPECT_FALSE(RunBacktest({}, {}).ok());
}

TEST(Backtest, LongHistoryNeedsACoarserCadence) {
  const auto intervals = Stream(2000, 0.01, 0.01);
  auto result = RunBacktest(intervals, {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "judge_every: 2000 decisions over 2000 intervals is too much work "
            "(each decision re-judges its prefix); keep decisions x intervals "
            "under 2000000, e.g. judge_every >= 2");
}

TEST(Backtest, RequestParametersAreCheckedAndDefaulted) {
  v1::BacktestRequest request;
  auto params = ParamsOf(request);
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->alpha, 0.01);
  EXPECT_EQ(params->margin, 0.25);
  EXPECT_EQ(params->max_burst, stats::kDefaultMaxBurst);
  request.set_margin(0);  // a zero margin is a choice, not "unset"
  EXPECT_EQ(ParamsOf(request)->margin, 0);
  request.set_alpha(1.5);
  EXPECT_EQ(ParamsOf(request).status().message(), "alpha: must be in (0, 1)");
  request.set_alpha(0.05);
  request.set_max_burst(0.5);
  EXPECT_EQ(ParamsOf(request).status().message(),
            "max_burst: must be finite and >= 1");
}

TEST(Backtest, ResponseCarriesEveryDecision) {
  auto result = RunBacktest(Stream(5, 0.01, 0.01), {});
  ASSERT_TRUE(result.ok());
  const v1::BacktestResponse response = ResponseOf(*result);
  ASSERT_EQ(response.decisions_size(), 5);
  EXPECT_EQ(response.decisions(4).interval(), 5);
  EXPECT_EQ(response.decisions(4).phase(), v1::SUCCESSFUL);
  EXPECT_GT(response.decisions(4).ratio_high(),
            response.decisions(4).ratio_low());
  EXPECT_EQ(response.summary(), result->summary);
}

}  // namespace
}  // namespace smartcanary::analysis
