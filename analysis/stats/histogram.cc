#include "analysis/stats/histogram.h"

#include <cmath>
#include <limits>

namespace smartcanary::stats {

HistogramEvidence EvaluateHistogram(
    std::span<const std::vector<IntervalCounts>> per_boundary, double margin,
    double alpha, double max_burst) {
  HistogramEvidence out;
  std::vector<double> worse;
  double least_not_worse = std::numeric_limits<double>::infinity();
  double best = -std::numeric_limits<double>::infinity();
  for (size_t k = 0; k < per_boundary.size(); ++k) {
    const double w =
        LogEProcess(per_boundary[k], 1 + margin, /*worse=*/true, max_burst);
    const double n =
        LogEProcess(per_boundary[k], 1 + margin, /*worse=*/false, max_burst);
    worse.push_back(w);
    least_not_worse = std::min(least_not_worse, n);
    if (w > best) {
      best = w;
      out.worst_boundary = static_cast<int>(k);
    }
  }
  if (worse.empty()) return out;
  out.log_e_worse =
      LogSumExp(worse) - std::log(static_cast<double>(worse.size()));
  out.log_e_not_worse = least_not_worse;
  out.worse = out.log_e_worse >= std::log(1 / (alpha * kRollbackShare));
  out.not_worse =
      out.log_e_not_worse >= std::log(1 / (alpha * kPromotionShare));
  return out;
}

}  // namespace smartcanary::stats
