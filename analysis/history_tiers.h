#ifndef SMARTCANARY_ANALYSIS_HISTORY_TIERS_H_
#define SMARTCANARY_ANALYSIS_HISTORY_TIERS_H_

#include <vector>

#include "absl/time/time.h"

// How a comparative metric's counter history is cut into intervals, so that
// a rollout baking for days neither exceeds Prometheus' 11,000 points per
// series nor makes each re-evaluation cost grow with its age.
//
// The cut is fixed by the canary's start alone: tier k has intervals of
// base x 2^k and at most `per_tier` of them, so tier 0 is the first
// per_tier x base (6 h at 5 s), tier 1 the next twice that, and so on. An
// interval, once closed, never changes, so the sequential test sees one
// growing sequence of intervals at every look and stays anytime-valid (a
// cut that coarsened old history as time went on would rewrite the
// evidence already accumulated). Pure.
namespace smartcanary::analysis {

// 4,320 x 5 s = 6 h: rollouts shorter than that are cut exactly as before,
// and each tier is one range query of at most 4,321 points.
inline constexpr int kIntervalsPerTier = 4320;

struct HistoryTier {
  absl::Time start;
  absl::Duration step;
  int intervals = 0;  // closed ones: query [start, end()] at `step`
  absl::Time end() const { return start + step * intervals; }
};

// The tiers with at least one interval closed by `now`, oldest first
// (empty: the first interval is still open). `start` and `base_step` are
// whole seconds.
std::vector<HistoryTier> HistoryTiers(absl::Time start, absl::Time now,
                                      absl::Duration base_step,
                                      int per_tier = kIntervalsPerTier);

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_HISTORY_TIERS_H_
