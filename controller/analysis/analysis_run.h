#ifndef SMARTCANARY_CONTROLLER_ANALYSIS_ANALYSIS_RUN_H_
#define SMARTCANARY_CONTROLLER_ANALYSIS_ANALYSIS_RUN_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "analysis/measurement.h"
#include "controller/analysis/analysis_spec.h"
#include "nlohmann/json.hpp"

// The record of one analysis (a step's, or the background one) and Argo's
// rules for when it is done. Pure: measurements in, phases out.
namespace smartcanary {

using analysis::MeasurementPhase;

enum class RunPhase { kRunning, kSuccessful, kFailed, kInconclusive, kError };
const char* RunPhaseName(RunPhase phase);

struct MeasurementRecord {
  MeasurementPhase phase = MeasurementPhase::kError;
  std::vector<double> values;
  std::string message;
  absl::Time at;
  // Comparative metrics: the canary is proven not worse than the margin.
  bool not_worse = false;
  // NaN values (no data) must compare equal to themselves, or a status
  // holding one would never equal its own copy.
  bool operator==(const MeasurementRecord& other) const;
};

struct MetricRun {
  std::string name;
  RunPhase phase = RunPhase::kRunning;
  int measured = 0;
  int successful = 0;
  int failed = 0;
  int inconclusive = 0;
  int errors = 0;
  int consecutive_errors = 0;
  std::optional<absl::Time> last_at;
  std::vector<MeasurementRecord>
      recent;  // the newest last, at most kKeptMeasurements
  bool operator==(const MetricRun&) const = default;
};

inline constexpr int kKeptMeasurements = 10;

struct AnalysisRun {
  int step_index = -1;  // -1: the background analysis
  absl::Time started_at;
  RunPhase phase = RunPhase::kRunning;
  std::string message;
  std::vector<MetricRun> metrics;
  bool operator==(const AnalysisRun&) const = default;
};

AnalysisRun StartRun(int step_index, const std::vector<MetricSpec>& metrics,
                     absl::Time now);

struct DueMeasurements {
  std::vector<std::string> metrics;  // due now
  absl::Duration next_in =
      absl::InfiniteDuration();  // when the next one is due
};
DueMeasurements Due(const std::vector<MetricSpec>& specs,
                    const AnalysisRun& run, absl::Time now);

// Adds one measurement and re-derives the metric's and the run's phase.
AnalysisRun Record(const std::vector<MetricSpec>& specs, AnalysisRun run,
                   const std::string& metric,
                   const MeasurementRecord& measurement);

// The rollout finished its steps while a background run was still running:
// Successful if every metric measured at least one success, Inconclusive
// otherwise (no evidence is not a pass).
AnalysisRun Conclude(AnalysisRun run);

nlohmann::json AnalysisRunToJson(const AnalysisRun& run);
absl::StatusOr<AnalysisRun> AnalysisRunFromJson(const nlohmann::json& value);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ANALYSIS_ANALYSIS_RUN_H_
