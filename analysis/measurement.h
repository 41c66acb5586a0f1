#ifndef SMARTCANARY_ANALYSIS_MEASUREMENT_H_
#define SMARTCANARY_ANALYSIS_MEASUREMENT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "analysis/condition.h"

namespace smartcanary::analysis {

enum class MeasurementPhase { kSuccessful, kFailed, kInconclusive, kError };

const char* MeasurementPhaseName(MeasurementPhase phase);

struct Verdict {
  MeasurementPhase phase;
  std::vector<double> values;
  std::string message;
};

// No data: an empty result or only NaN, i.e. nothing to judge the canary by.
bool IsNoData(const std::vector<double>& values);

// Whether a verdict is Inconclusive only for want of data: canaryd counts
// such a measurement toward no limit while the canary's series can still be
// appearing (its warm-up), and as Inconclusive after that.
bool IsNoDataVerdict(const Verdict& verdict);

// Argo Rollouts' rules for one measurement, except that no data is never a
// pass: an empty result or only NaN is Inconclusive (Argo errors on
// `result[0]` of an empty vector and fails on NaN, so a quiet canary is
// aborted or, worse, a condition written with `||` passes it). A query error
// is Error. With only a success condition, false is Failed; with only a
// failure condition, true is Failed; with both, neither true is
// Inconclusive. Pure: the query's outcome in, the verdict out.
Verdict Judge(const std::optional<Condition>& success,
              const std::optional<Condition>& failure,
              const absl::StatusOr<std::vector<double>>& values);

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_MEASUREMENT_H_
