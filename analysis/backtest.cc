#include "analysis/backtest.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace smartcanary::analysis {
namespace {

absl::Status IntervalError(size_t index, const char* field,
                           const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat("intervals[", index, "].", field, ": ", what));
}

std::string Describe(const char* what, const BacktestDecision& d) {
  const std::vector<double>& v = d.verdict.verdict.values;
  std::string out = absl::StrFormat("%s at interval %d (end %d s)", what,
                                    d.interval, d.end_seconds);
  if (v.size() >= 3)
    absl::StrAppend(
        &out, absl::StrFormat(", ratio %.3g [%.3g, %.3g]", v[0], v[1], v[2]));
  return out;
}

}  // namespace

absl::Status CheckIntervals(std::span<const TimedInterval> intervals) {
  for (size_t i = 0; i < intervals.size(); ++i) {
    const stats::IntervalCounts& c = intervals[i].counts;
    const std::pair<const char*, double> counts[] = {
        {"canary_events", c.canary_events},
        {"canary_requests", c.canary_requests},
        {"baseline_events", c.baseline_events},
        {"baseline_requests", c.baseline_requests}};
    for (const auto& [field, value] : counts) {
      if (!std::isfinite(value) || value < 0)
        return IntervalError(i, field, "must be a finite count >= 0");
    }
    if (c.canary_events > c.canary_requests)
      return IntervalError(i, "canary_events", "exceeds canary_requests");
    if (c.baseline_events > c.baseline_requests)
      return IntervalError(i, "baseline_events", "exceeds baseline_requests");
    if (!(c.configured_canary_share >= 0 && c.configured_canary_share <= 1))
      return IntervalError(i, "configured_canary_share",
                           "must be a fraction in [0, 1]");
    if (i > 0 && intervals[i].end_seconds <= intervals[i - 1].end_seconds)
      return IntervalError(i, "end_seconds",
                           "must be later than the previous interval's end");
  }
  return absl::OkStatus();
}

absl::Status CheckParams(const BacktestParams& p) {
  if (!(p.alpha > 0 && p.alpha < 1))
    return absl::InvalidArgumentError("alpha: must be in (0, 1)");
  if (!(p.margin >= 0 && std::isfinite(p.margin)))
    return absl::InvalidArgumentError("margin: must be finite and >= 0");
  if (!(p.max_burst >= 1 && std::isfinite(p.max_burst)))
    return absl::InvalidArgumentError("max_burst: must be finite and >= 1");
  if (p.judge_every < 1)
    return absl::InvalidArgumentError("judge_every: must be >= 1");
  return absl::OkStatus();
}

absl::StatusOr<BacktestResult> RunBacktest(
    std::span<const TimedInterval> intervals, const BacktestParams& params) {
  if (absl::Status s = CheckParams(params); !s.ok()) return s;
  if (intervals.empty())
    return absl::InvalidArgumentError("intervals: at least one is required");
  if (absl::Status s = CheckIntervals(intervals); !s.ok()) return s;
  const double n_intervals = static_cast<double>(intervals.size());
  const double decisions = std::ceil(n_intervals / params.judge_every);
  if (decisions * n_intervals > kMaxBacktestWork) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "judge_every: %d decisions over %d intervals is too much work (each "
        "decision re-judges its prefix); keep decisions x intervals under "
        "%.0f, e.g. judge_every >= %.0f",
        static_cast<int>(decisions), static_cast<int>(intervals.size()),
        kMaxBacktestWork,
        std::ceil(n_intervals * n_intervals / kMaxBacktestWork)));
  }
  // Interval 1 covers as long as interval 2 (the only clue to its start).
  const int64_t first_length =
      intervals.size() > 1 ? intervals[1].end_seconds - intervals[0].end_seconds
                           : absl::ToInt64Seconds(params.lone_interval);
  const int64_t start = intervals[0].end_seconds - first_length;
  BacktestResult out;
  std::vector<stats::IntervalCounts> seen;
  // The e-values the verdict compares with its thresholds, kept
  // incrementally: the same processes stats::Evaluate runs on each prefix.
  stats::EProcess worse(1 + params.margin, true, params.max_burst);
  stats::EProcess not_worse(1 + params.margin, false, params.max_burst);
  const int n = static_cast<int>(intervals.size());
  for (int k = 1; k <= n; ++k) {
    const TimedInterval& current = intervals[k - 1];
    seen.push_back(current.counts);
    worse.Add(current.counts);
    not_worse.Add(current.counts);
    if (k % params.judge_every != 0 && k != n) continue;
    const int64_t previous_end = k > 1 ? intervals[k - 2].end_seconds : start;
    BacktestDecision d;
    d.interval = k;
    d.end_seconds = current.end_seconds;
    // The live path's own call, on the prefix a live look would see.
    d.verdict = JudgeComparative(
        seen, params.alpha, params.margin,
        absl::Seconds(current.end_seconds - previous_end), params.planned,
        absl::Seconds(current.end_seconds - start), params.max_burst);
    d.log_e_worse = worse.LogE();
    d.log_e_not_worse = not_worse.LogE();
    if (out.first_rollback == 0 &&
        d.verdict.verdict.phase == MeasurementPhase::kFailed)
      out.first_rollback = k;
    if (out.first_not_worse == 0 && d.verdict.not_worse)
      out.first_not_worse = k;
    out.decisions.push_back(std::move(d));
  }
  auto decision_at = [&](int interval) -> const BacktestDecision& {
    for (const BacktestDecision& d : out.decisions)
      if (d.interval == interval) return d;
    return out.decisions.back();
  };
  out.summary = absl::StrCat(
      out.decisions.size(), " decisions over ", n, " intervals (",
      intervals.back().end_seconds - start, " s): ",
      out.first_rollback > 0
          ? Describe("first rollback", decision_at(out.first_rollback))
          : "no rollback",
      "; ",
      out.first_not_worse > 0
          ? Describe("first not worse", decision_at(out.first_not_worse))
          : "never proven not worse");
  return out;
}

}  // namespace smartcanary::analysis
