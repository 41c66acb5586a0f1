#include "controller/rollout_status.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace smartcanary {

using nlohmann::json;

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kProgressing:
      return "Progressing";
    case Phase::kPaused:
      return "Paused";
    case Phase::kHealthy:
      return "Healthy";
    case Phase::kDegraded:
      return "Degraded";
  }
  return "Progressing";
}

std::optional<Phase> PhaseFromName(const std::string& name) {
  for (Phase phase : {Phase::kProgressing, Phase::kPaused, Phase::kHealthy,
                      Phase::kDegraded}) {
    if (name == PhaseName(phase)) return phase;
  }
  return std::nullopt;
}

absl::StatusOr<RolloutStatus> ParseRolloutStatus(const json& status) {
  RolloutStatus out;
  if (status.is_null()) return out;
  if (!status.is_object())
    return absl::InvalidArgumentError("status: must be an object");
  try {
    if (status.contains("phase")) {
      auto phase = PhaseFromName(status["phase"].get<std::string>());
      if (!phase) {
        return absl::InvalidArgumentError(absl::StrCat(
            "status.phase: unknown phase ", status["phase"].dump()));
      }
      out.phase = *phase;
    }
    out.current_step_index = status.value("currentStepIndex", 0);
    out.canary_weight = status.value("canaryWeight", 0);
    out.message = status.value("message", "");
    out.paused_by_user = status.value("pausedByUser", false);
    out.observed_generation = status.value("observedGeneration", int64_t{0});
    if (status.contains("pauseStartTime")) {
      absl::Time when;
      std::string error;
      if (!absl::ParseTime(absl::RFC3339_full,
                           status["pauseStartTime"].get<std::string>(), &when,
                           &error)) {
        return absl::InvalidArgumentError("status.pauseStartTime: " + error);
      }
      out.pause_started_at = when;
    }
    for (const char* key : {"stepAnalysis", "backgroundAnalysis"}) {
      if (!status.contains(key)) continue;
      auto run = AnalysisRunFromJson(status[key]);
      if (!run.ok()) return run.status();
      (std::string(key) == "stepAnalysis" ? out.step_run : out.background_run) =
          *run;
    }
    for (const json& change : status.value("weightHistory", json::array())) {
      absl::Time at;
      std::string error;
      if (!absl::ParseTime(absl::RFC3339_full, change.value("at", ""), &at,
                           &error)) {
        return absl::InvalidArgumentError("status.weightHistory[].at: " +
                                          error);
      }
      out.weight_history.push_back({at, change.value("canaryWeight", 0)});
    }
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("status: ", e.what()));
  }
  return out;
}

json RolloutStatusToJson(const RolloutStatus& status) {
  json out = {{"phase", PhaseName(status.phase)},
              {"currentStepIndex", status.current_step_index},
              {"canaryWeight", status.canary_weight},
              {"stableWeight", 100 - status.canary_weight},
              {"message", status.message},
              {"pausedByUser", status.paused_by_user},
              {"observedGeneration", status.observed_generation}};
  if (status.pause_started_at) {
    out["pauseStartTime"] = absl::FormatTime(
        absl::RFC3339_full, *status.pause_started_at, absl::UTCTimeZone());
  }
  if (status.step_run)
    out["stepAnalysis"] = AnalysisRunToJson(*status.step_run);
  if (status.background_run)
    out["backgroundAnalysis"] = AnalysisRunToJson(*status.background_run);
  if (!status.weight_history.empty()) {
    json history = json::array();
    for (const WeightChange& change : status.weight_history) {
      history.push_back({{"at", absl::FormatTime(absl::RFC3339_full, change.at,
                                                 absl::UTCTimeZone())},
                         {"canaryWeight", change.canary_weight}});
    }
    out["weightHistory"] = history;
  }
  return out;
}

}  // namespace smartcanary
