#ifndef SMARTCANARY_ANALYSIS_PREFLIGHT_H_
#define SMARTCANARY_ANALYSIS_PREFLIGHT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "analysis/stats/evidence.h"

// Pre-flight: before the canary takes weight (and at each step), how long
// the comparative judge needs, on the stable version's observed traffic,
// to roll back a canary with twice the stable's error rate and to prove an
// equal canary not worse; and whether the plan lasts that long. Pure: rates
// and the plan in, times out (docs/BACKTEST.md, "Pre-flight").
namespace smartcanary::analysis {

struct PreflightStep {
  double canary_share = 0;  // 0..1 while this step lasts
  absl::Duration duration;  // absl::InfiniteDuration(): until promoted
};

struct PreflightInput {
  double requests_per_second = 0;  // all traffic, stable and canary
  double error_rate = 0;           // the stable's events per request
  double margin = 0.25;
  double alpha = 0.01;  // the metric's budget (rollout alpha / metrics)
  double max_burst = stats::kDefaultMaxBurst;
  // The judge's interval: how many events one holds decides whether the
  // judge's switched process stops dividing the rising arm's events by
  // max_burst.
  absl::Duration interval = absl::Seconds(5);
  double beta = 0.1;                // 1 - the power the times are for
  std::vector<PreflightStep> plan;  // from now on
};

struct PreflightResult {
  // From now; absl::InfiniteDuration() when never within the plan.
  absl::Duration regression_detected;
  absl::Duration not_worse_proven;
  absl::Duration plan_length;  // infinite with an until-promoted step
  bool regression_within_plan = false;
  bool not_worse_within_plan = false;
  std::string message;  // one line for the status, canaryctl get and logs
};

// The error names the field (requests_per_second, error_rate, margin,
// alpha, max_burst, beta, interval, plan[i].canary_share, plan[i].duration).
absl::StatusOr<PreflightResult> Preflight(const PreflightInput& input);

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_PREFLIGHT_H_
