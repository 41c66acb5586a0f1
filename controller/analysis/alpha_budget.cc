#include "controller/analysis/alpha_budget.h"

#include <algorithm>
#include <set>
#include <string>

#include "analysis/comparative.h"

namespace smartcanary {

int DistinctComparativeMetrics(const std::vector<ResolvedAnalysis>& analyses) {
  std::set<std::string> definitions;
  for (const ResolvedAnalysis& analysis : analyses) {
    for (const MetricSpec& metric : analysis.metrics) {
      if (!metric.query.has_comparative()) continue;
      auto provider =
          analysis::SubstituteArgs(metric.query.comparative(), analysis.args);
      v1::ComparativeProvider key =
          provider.ok() ? *provider : metric.query.comparative();
      key.clear_budget_share();
      // Text format prints map entries sorted, so equal definitions give
      // equal keys.
      definitions.insert(key.ShortDebugString());
    }
  }
  return std::max<int>(1, static_cast<int>(definitions.size()));
}

void ShareAlpha(std::vector<MetricSpec>& metrics, int distinct) {
  for (MetricSpec& metric : metrics) {
    if (metric.query.has_comparative())
      metric.query.mutable_comparative()->set_budget_share(distinct);
  }
}

}  // namespace smartcanary
