#include "analysis/history_tiers.h"

#include <algorithm>

namespace smartcanary::analysis {

std::vector<HistoryTier> HistoryTiers(absl::Time start, absl::Time now,
                                      absl::Duration base_step, int per_tier) {
  std::vector<HistoryTier> tiers;
  HistoryTier tier{start, base_step, 0};
  while (tier.start < now) {
    const int64_t closed = (now - tier.start) / tier.step;
    tier.intervals = static_cast<int>(std::min<int64_t>(closed, per_tier));
    if (tier.intervals == 0) break;
    tiers.push_back(tier);
    if (tier.intervals < per_tier) break;
    tier = {tier.end(), tier.step * 2, 0};
  }
  return tiers;
}

}  // namespace smartcanary::analysis
