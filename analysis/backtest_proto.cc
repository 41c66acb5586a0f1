#include "analysis/backtest_proto.h"

#include <cmath>

#include "common/utf8.h"

namespace smartcanary::analysis {
namespace {

// Messages are read by people; a long one only needs its start.
constexpr size_t kMaxMessageBytes = 4096;

}  // namespace

v1::MeasurementPhase PhaseOf(MeasurementPhase phase) {
  switch (phase) {
    case MeasurementPhase::kSuccessful:
      return v1::SUCCESSFUL;
    case MeasurementPhase::kFailed:
      return v1::FAILED;
    case MeasurementPhase::kInconclusive:
      return v1::INCONCLUSIVE;
    case MeasurementPhase::kError:
      return v1::ERROR;
  }
  return v1::ERROR;
}

absl::StatusOr<BacktestParams> ParamsOf(const v1::BacktestRequest& request) {
  BacktestParams params;
  if (request.has_alpha()) params.alpha = request.alpha();
  if (request.has_margin()) params.margin = request.margin();
  if (request.has_max_burst()) params.max_burst = request.max_burst();
  if (request.judge_every() < 0)
    return absl::InvalidArgumentError("judge_every: must not be negative");
  params.judge_every = std::max(1, request.judge_every());
  if (request.planned_pause_seconds() < 0)
    return absl::InvalidArgumentError(
        "planned_pause_seconds: must not be negative");
  params.planned = absl::Seconds(request.planned_pause_seconds());
  if (absl::Status s = CheckParams(params); !s.ok()) return s;
  return params;
}

std::vector<TimedInterval> IntervalsOf(const v1::BacktestCounts& counts) {
  std::vector<TimedInterval> out;
  out.reserve(counts.intervals_size());
  for (const v1::BacktestInterval& in : counts.intervals()) {
    TimedInterval t;
    t.end_seconds = in.end_seconds();
    t.counts.canary_events = in.canary_events();
    t.counts.canary_requests = in.canary_requests();
    t.counts.baseline_events = in.baseline_events();
    t.counts.baseline_requests = in.baseline_requests();
    t.counts.configured_canary_share = in.configured_canary_share();
    out.push_back(t);
  }
  return out;
}

v1::BacktestResponse ResponseOf(const BacktestResult& result) {
  v1::BacktestResponse out;
  for (const BacktestDecision& d : result.decisions) {
    v1::BacktestDecision* p = out.add_decisions();
    p->set_interval(d.interval);
    p->set_end_seconds(d.end_seconds);
    p->set_phase(PhaseOf(d.verdict.verdict.phase));
    p->set_not_worse(d.verdict.not_worse);
    p->set_e_worse(std::exp(d.log_e_worse));
    p->set_e_not_worse(std::exp(d.log_e_not_worse));
    const std::vector<double>& v = d.verdict.verdict.values;
    if (v.size() >= 3) {
      p->set_rate_ratio(v[0]);
      p->set_ratio_low(v[1]);
      p->set_ratio_high(v[2]);
    } else {
      p->set_rate_ratio(std::nan(""));
      p->set_ratio_low(std::nan(""));
      p->set_ratio_high(std::nan(""));
    }
    p->set_message(SanitizeAndCap(d.verdict.verdict.message, kMaxMessageBytes));
  }
  out.set_first_rollback(result.first_rollback);
  out.set_first_not_worse(result.first_not_worse);
  out.set_summary(result.summary);
  return out;
}

}  // namespace smartcanary::analysis
