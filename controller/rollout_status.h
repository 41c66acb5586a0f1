#ifndef SMARTCANARY_CONTROLLER_ROLLOUT_STATUS_H_
#define SMARTCANARY_CONTROLLER_ROLLOUT_STATUS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/analysis/analysis_run.h"
#include "controller/preflight_status.h"
#include "nlohmann/json.hpp"

namespace smartcanary {

enum class Phase { kProgressing, kPaused, kHealthy, kDegraded };

const char* PhaseName(Phase phase);
std::optional<Phase> PhaseFromName(const std::string& name);

// Why a rollout is held where it is, beyond what its steps say (a pause step
// is not a hold).
enum class PauseReason {
  kNone,
  kUser,          // a person's or CD system's pause; only resume ends it
  kInconclusive,  // an analysis is Inconclusive: a person decides
  kOutage,        // an analysis errs and its onError is pause: ends by itself
  // spec.preflight: enforce and the plan ends before a 2x regression could
  // show: ends by itself when a later pre-flight passes, or by promote.
  kPreflight,
};
const char* PauseReasonName(PauseReason reason);  // "" for kNone

// Argo's condition shape; the one canaryd sets is
// {Progressing, "False", ProgressDeadlineExceeded}.
struct RolloutCondition {
  std::string type;
  std::string status;
  std::string reason;
  std::string message;
  absl::Time last_transition;
  bool operator==(const RolloutCondition&) const = default;
};
inline constexpr char kProgressDeadlineExceeded[] = "ProgressDeadlineExceeded";

struct WeightChange {
  absl::Time at;
  int canary_weight = 0;
  bool operator==(const WeightChange&) const = default;
};

// Enough history for the longest rollouts' share timeline; older entries
// are folded away.
inline constexpr size_t kKeptWeightChanges = 64;

// CanaryRollout.status: the only place rollout state lives, so that a
// restarted canaryd continues from exactly here.
struct RolloutStatus {
  Phase phase = Phase::kProgressing;
  int current_step_index = 0;
  // The canary's share that the last executed setWeight asked for; traffic
  // is driven to this value (0 once Healthy or Degraded).
  int canary_weight = 0;
  std::string message;
  // When the current pause step began; kept across restarts so a timed
  // pause is measured from here, not from the restart.
  std::optional<absl::Time> pause_started_at;
  PauseReason pause_reason = PauseReason::kNone;
  // When the rollout last made progress (started, changed step, resumed, or
  // left a state where the progress deadline does not run).
  std::optional<absl::Time> progress_at;
  std::vector<RolloutCondition> conditions;
  // Advice about the analyses, added as each analysis starts.
  std::vector<std::string> warnings;
  // The spec generation this status describes; a different metadata
  // generation means a new rollout.
  int64_t observed_generation = 0;
  // The current (or last) analysis step's run, and the background run.
  std::optional<AnalysisRun> step_run;
  std::optional<AnalysisRun> background_run;
  // When the canary's share changed, from the rollout's start: the traffic
  // shares that comparative analysis needs.
  std::vector<WeightChange> weight_history;
  // The last pre-flight (how long a 2x regression takes to show on the
  // stable's traffic, and whether the plan lasts that long).
  std::optional<PreflightStatus> preflight;

  bool operator==(const RolloutStatus&) const = default;
  bool paused_by_user() const { return pause_reason == PauseReason::kUser; }
  const RolloutCondition* Condition(const std::string& reason) const;
};

absl::StatusOr<RolloutStatus> ParseRolloutStatus(const nlohmann::json& status);

// The longest string RolloutStatusToJson writes (messages are cut there).
inline constexpr size_t kMaxStatusStringBytes = 4096;

// Every string is written as valid UTF-8 of at most kMaxStatusStringBytes.
nlohmann::json RolloutStatusToJson(const RolloutStatus& status);

// `status` as it reads back once written: compare this, not `status`, with
// the stored status, or a message that is cut on writing never matches and
// is written again and again.
RolloutStatus AsWritten(const RolloutStatus& status);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ROLLOUT_STATUS_H_
