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
  // The query answered with no data (the analyzer's Measurement.no_data).
  bool no_data = false;
  // Set by Record: no data within the metric's warm-up, counted toward no
  // limit (shown as Pending).
  bool pending = false;
  // NaN values (no data) must compare equal to themselves, or a status
  // holding one would never equal its own copy.
  bool operator==(const MeasurementRecord& other) const;
};

// "Pending" for a pending record, else its phase's name.
const char* RecordPhaseName(const MeasurementRecord& record);

struct MetricRun {
  std::string name;
  // The template's dryRun names it: its phase is shown but never becomes
  // the run's (a finished dry-run metric counts as done, whatever its
  // verdict).
  bool dry_run = false;
  RunPhase phase = RunPhase::kRunning;
  int measured = 0;
  int successful = 0;
  int failed = 0;
  int inconclusive = 0;
  int errors = 0;
  int consecutive_errors = 0;
  int pending = 0;  // no-data measurements within the warm-up
  std::optional<absl::Time> last_at;
  std::vector<MeasurementRecord>
      recent;  // the newest last, at most kKeptMeasurements
  bool operator==(const MetricRun&) const = default;
};

inline constexpr int kKeptMeasurements = 10;

// The metric's name, marked " (dry-run)" for a dry-run metric: how status
// messages and annotations show it.
std::string MetricLabel(const MetricRun& run);

struct AnalysisRun {
  int step_index = -1;  // -1: the background analysis
  absl::Time started_at;
  // Where the metrics' warm-up is measured from: the later of the run's
  // start and the moment the canary began taking its current traffic (the
  // state machine moves it; StartRun sets the start).
  absl::Time warm_up_from;
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
// Metrics keep being measured while their run is Running, Inconclusive or
// Error, so a rollout held by an analysis still rolls back on a failure and
// resumes once an outage ends; Successful and Failed are final.
DueMeasurements Due(const std::vector<MetricSpec>& specs,
                    const AnalysisRun& run, absl::Time now);

// Adds one measurement and re-derives the metric's and the run's phase. A
// no-data measurement taken before run.warm_up_from + the metric's WarmUp()
// is pending: recorded and shown, counted toward no limit. Inconclusive is
// final for a metric except that a failure still fails it; Error ends when
// a measurement succeeds again.
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
