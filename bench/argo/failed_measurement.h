#ifndef SMARTCANARY_BENCH_ARGO_FAILED_MEASUREMENT_H_
#define SMARTCANARY_BENCH_ARGO_FAILED_MEASUREMENT_H_

#include <optional>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

// When the first failing measurement of the benchmark's deadline analysis
// was taken, from the value it recorded: the query is `vector(time())`, so
// its answer is Prometheus' own evaluation time (millisecond precision, the
// same clock as the benchmark's watch). Both controllers record it; Argo's
// startedAt is only whole seconds, canaryd's `at` is when the measurement was
// started, not answered.
namespace smartcanary::bench::argo {

// From a CanaryRollout: status.backgroundAnalysis.metrics[].measurements[]
// with phase Failed, values[0].
std::optional<absl::Time> OursFirstFailure(const nlohmann::json& rollout);

// From an Argo AnalysisRun: status.metricResults[].measurements[] with phase
// Failed, value "[<seconds>]".
std::optional<absl::Time> ArgoFirstFailure(const nlohmann::json& run);

}  // namespace smartcanary::bench::argo

#endif  // SMARTCANARY_BENCH_ARGO_FAILED_MEASUREMENT_H_
