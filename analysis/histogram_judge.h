#ifndef SMARTCANARY_ANALYSIS_HISTOGRAM_JUDGE_H_
#define SMARTCANARY_ANALYSIS_HISTOGRAM_JUDGE_H_

#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "analysis/comparative.h"
#include "analysis/stats/evidence.h"
#include "smartcanary/v1/analysis.pb.h"

// The Istio preset's latency-histogram event: latency compared at every
// listed bucket boundary at once (stats/histogram.h), so a shift of the
// median or of the tail is caught without choosing one objective. Pure.
namespace smartcanary::analysis {

// Each boundary costs four range queries per history tier, so the list is
// capped.
inline constexpr int kMaxHistogramBuckets = 32;

bool IsLatencyHistogram(const v1::ComparativeProvider& provider);

// The boundaries are present, positive, strictly increasing and at most
// kMaxHistogramBuckets; the error names the field.
absl::Status CheckHistogramBuckets(const v1::IstioPreset& istio);

// One slower-than preset per boundary: its events are the requests slower
// than le (the count minus the cumulative bucket at le), its requests all
// requests, so QueriesFor and the counter path build each boundary's
// queries unchanged.
std::vector<v1::ComparativeProvider> BoundaryProviders(
    const v1::ComparativeProvider& provider);

// `per_boundary[k]` holds boundary `boundaries_ms[k]`'s intervals. The
// routing check, liveness and no-data answers are JudgeComparative's (all
// boundaries count the same requests); the verdict is EvaluateHistogram's
// at the same alpha share, its message naming the worst boundary and the
// burst assumption in force.
ComparativeVerdict JudgeHistogram(
    std::span<const std::vector<stats::IntervalCounts>> per_boundary,
    std::span<const double> boundaries_ms, double alpha, double margin,
    absl::Duration step, double max_burst = stats::kDefaultMaxBurst,
    bool check_routing = true);

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_HISTOGRAM_JUDGE_H_
