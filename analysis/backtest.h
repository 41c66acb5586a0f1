#ifndef SMARTCANARY_ANALYSIS_BACKTEST_H_
#define SMARTCANARY_ANALYSIS_BACKTEST_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "analysis/comparative.h"
#include "analysis/stats/evidence.h"

// The comparative judge replayed over history: every prefix of a sequence
// of intervals judged by JudgeComparative, exactly as a live rollout's
// analysis sees its counts grow. Pure: counts in, decisions out.
namespace smartcanary::analysis {

// Each decision re-judges its whole prefix (as a live look does), so a
// backtest costs about decisions x intervals; this caps it, so one call
// cannot occupy the analyzer for long (raise judge_every for long history).
inline constexpr double kMaxBacktestWork = 2'000'000;

struct TimedInterval {
  int64_t end_seconds = 0;  // any clock; consecutive intervals
  stats::IntervalCounts counts;
};

struct BacktestParams {
  double alpha = 0.01;  // the metric's whole budget
  double margin = 0.25;
  double max_burst = stats::kDefaultMaxBurst;
  int judge_every = 1;  // judge after every N-th interval and the last
  absl::Duration planned = absl::ZeroDuration();
  // The first interval's length when there is no second one to copy it
  // from (the live default resolution).
  absl::Duration lone_interval = absl::Seconds(5);
};

struct BacktestDecision {
  int interval = 0;  // 1-based: the judge saw intervals 1..interval
  int64_t end_seconds = 0;
  ComparativeVerdict verdict;
  double log_e_worse = 0, log_e_not_worse = 0;
};

struct BacktestResult {
  std::vector<BacktestDecision> decisions;
  int first_rollback = 0;   // 1-based interval; 0: none
  int first_not_worse = 0;  // 1-based interval; 0: none
  std::string summary;
};

// Every field finite, counts non-negative, events at most requests, share
// in [0, 1], ends increasing; the error names intervals[i] and the field.
absl::Status CheckIntervals(std::span<const TimedInterval> intervals);
absl::Status CheckParams(const BacktestParams& params);

absl::StatusOr<BacktestResult> RunBacktest(
    std::span<const TimedInterval> intervals, const BacktestParams& params);

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_BACKTEST_H_
