#ifndef SMARTCANARY_CONTROLLER_ANALYSIS_ALPHA_BUDGET_H_
#define SMARTCANARY_CONTROLLER_ANALYSIS_ALPHA_BUDGET_H_

#include <vector>

#include "controller/analysis/analysis_spec.h"
#include "controller/analysis/template_store.h"

// One alpha per rollout (docs/STATISTICS-IMPLEMENTATION.md, "One alpha per
// rollout"). Analyses that judge the same comparative metric definition
// (same counters, selectors, margin, maxBurst, resolution, after args are
// substituted) evaluate one e-process on the same counts since the canary
// started, only at different moments: Ville's inequality covers every look
// at once, so they share one test. Distinct definitions are distinct tests
// and split the rollout's alpha evenly (Bonferroni, valid under any
// dependence).
namespace smartcanary {

// How many distinct comparative definitions the rollout's analyses (its
// background analysis and every analysis step) hold; at least 1.
int DistinctComparativeMetrics(const std::vector<ResolvedAnalysis>& analyses);

// Each comparative metric of `metrics` gets 1/`distinct` of the alpha.
void ShareAlpha(std::vector<MetricSpec>& metrics, int distinct);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ANALYSIS_ALPHA_BUDGET_H_
