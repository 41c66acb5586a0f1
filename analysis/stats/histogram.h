#ifndef SMARTCANARY_ANALYSIS_STATS_HISTOGRAM_H_
#define SMARTCANARY_ANALYSIS_STATS_HISTOGRAM_H_

#include <span>
#include <vector>

#include "analysis/stats/evidence.h"

// Latency compared on the whole histogram (docs/STATISTICS.md, "Whole
// histogram"): for every bucket boundary `le` of
// istio_request_duration_milliseconds_bucket the events are the requests
// slower than le, and the canary is worse when, at some boundary, its share
// of slower requests is more than 1+margin times the baseline's. A shift of
// the median moves the middle boundaries, a longer tail the top ones; no
// single objective has to be chosen.
namespace smartcanary::stats {

struct HistogramEvidence {
  // The mean of the boundaries' e-values for "worse": an average of
  // e-processes is one, so no union penalty is paid for many boundaries.
  double log_e_worse = 0;
  // The least of the boundaries' e-values for "not worse": promotion needs
  // every boundary proven, and the least is at most each of them.
  double log_e_not_worse = 0;
  int worst_boundary = -1;  // the boundary with the largest "worse" e-value
  bool worse = false, not_worse = false;
};

// `per_boundary[k]` is boundary k's intervals (events = requests slower than
// its le; requests = all requests). Boundaries with no slower requests in
// either arm add nothing. Thresholds as Evaluate's (alpha x kRollbackShare,
// alpha x kPromotionShare); `max_burst` as there.
HistogramEvidence EvaluateHistogram(
    std::span<const std::vector<IntervalCounts>> per_boundary, double margin,
    double alpha, double max_burst = kDefaultMaxBurst);

}  // namespace smartcanary::stats

#endif  // SMARTCANARY_ANALYSIS_STATS_HISTOGRAM_H_
