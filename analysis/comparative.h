#ifndef SMARTCANARY_ANALYSIS_COMPARATIVE_H_
#define SMARTCANARY_ANALYSIS_COMPARATIVE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "analysis/measurement.h"
#include "analysis/stats/evidence.h"
#include "smartcanary/v1/analysis.pb.h"

// The comparative (canary versus baseline) metric: PromQL for the four
// counters, their range-query samples turned into intervals, and the
// verdict with its evidence. Pure except for nothing: no I/O here.
namespace smartcanary::analysis {

// {{args.NAME}} substituted in the address, selectors, service and queries.
absl::StatusOr<v1::ComparativeProvider> SubstituteArgs(
    const v1::ComparativeProvider& provider,
    const std::map<std::string, std::string>& args);

struct CounterQueries {
  std::string canary_events, canary_requests, baseline_events,
      baseline_requests;
};
// The Istio preset's queries (histogram bucket counts for slower-than,
// never histogram_quantile), or the custom ones.
CounterQueries QueriesFor(const v1::ComparativeProvider& provider);

// A cumulative counter sampled at start + k*step (missing samples absent).
using CounterSamples = std::map<int64_t, double>;  // unix seconds -> value

// Interval k covers (start + (k-1) step, start + k step]. Deltas handle
// counter resets; a missing events series beside live requests is zero
// events. The configured share is the weight timeline's time average.
std::vector<stats::IntervalCounts> ToIntervals(
    const CounterSamples& canary_events, const CounterSamples& canary_requests,
    const CounterSamples& baseline_events,
    const CounterSamples& baseline_requests,
    const std::vector<std::pair<absl::Time, int>>& weights, absl::Time start,
    absl::Duration step, int intervals);

struct ComparativeVerdict {
  Verdict verdict;
  bool not_worse = false;
  // The sequential test's numbers when it ran (not for no data, a silent
  // canary or a failed routing check): the HTTP API answers them as fields.
  std::optional<stats::Evidence> evidence;
  bool routing_checked = false;  // whether the routing check ran
};

// Routing check, liveness, no-traffic, then the sequential test. `alpha` is
// this metric's share of the rollout's budget.
// `planned` is the plan's timed pauses added up (zero: unknown); when a 2x
// regression needs longer than that to show, the verdict says so.
// `step` is the newest intervals' length (liveness spans three of them);
// `covered` the time all intervals span, for request rates (zero: step x
// their number; older history may be cut coarser, see history_tiers.h).
// `max_burst` is the declared burst bound the guarantee assumes. A routing
// mismatch is Inconclusive (holds the rollout), never Failed.
// `check_routing` false skips the routing check and liveness, for callers
// that cannot say what share the canary was given (the HTTP API without
// canaryWeight): a configured share of zero would fail both.
ComparativeVerdict JudgeComparative(
    const std::vector<stats::IntervalCounts>& intervals, double alpha,
    double margin, absl::Duration step,
    absl::Duration planned = absl::ZeroDuration(),
    absl::Duration covered = absl::ZeroDuration(),
    double max_burst = stats::kDefaultMaxBurst, bool check_routing = true);

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_COMPARATIVE_H_
