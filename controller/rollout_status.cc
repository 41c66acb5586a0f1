#include "controller/rollout_status.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/utf8.h"

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

const char* PauseReasonName(PauseReason reason) {
  switch (reason) {
    case PauseReason::kNone:
      return "";
    case PauseReason::kUser:
      return "User";
    case PauseReason::kInconclusive:
      return "Inconclusive";
    case PauseReason::kOutage:
      return "Outage";
    case PauseReason::kPreflight:
      return "Preflight";
  }
  return "";
}

const RolloutCondition* RolloutStatus::Condition(
    const std::string& reason) const {
  for (const RolloutCondition& condition : conditions) {
    if (condition.reason == reason) return &condition;
  }
  return nullptr;
}

namespace {

std::string TimeText(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

absl::StatusOr<absl::Time> TimeField(const json& value,
                                     const std::string& field) {
  absl::Time when;
  std::string error;
  if (!value.is_string() ||
      !absl::ParseTime(absl::RFC3339_full, value.get<std::string>(), &when,
                       &error)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "status.", field, ": ", error.empty() ? "not a time" : error));
  }
  return when;
}

// Messages quote user input, Prometheus answers and analyzer text: every
// string of the status is made valid UTF-8 and bounded before it goes to
// the API server, which refuses invalid UTF-8 and limits object size.
void SanitizeStrings(json& value) {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (text.size() > kMaxStatusStringBytes || !IsValidUtf8(text))
      value = SanitizeAndCap(text, kMaxStatusStringBytes);
    return;
  }
  if (value.is_structured()) {
    for (json& item : value) SanitizeStrings(item);
  }
}

}  // namespace

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
            "status.phase: unknown phase ",
            QuoteForMessage(status["phase"].get<std::string>(), 80)));
      }
      out.phase = *phase;
    }
    out.current_step_index = status.value("currentStepIndex", 0);
    out.canary_weight = status.value("canaryWeight", 0);
    out.message = status.value("message", "");
    // pausedByUser alone is what canaryd wrote before pause reasons.
    const std::string reason = status.value("pauseReason", "");
    for (PauseReason r : {PauseReason::kUser, PauseReason::kInconclusive,
                          PauseReason::kOutage, PauseReason::kPreflight}) {
      if (reason == PauseReasonName(r)) out.pause_reason = r;
    }
    if (!status.contains("pauseReason") && status.value("pausedByUser", false))
      out.pause_reason = PauseReason::kUser;
    if (status.contains("progressTime")) {
      auto at = TimeField(status["progressTime"], "progressTime");
      if (!at.ok()) return at.status();
      out.progress_at = *at;
    }
    for (const json& c : status.value("conditions", json::array())) {
      RolloutCondition condition{c.value("type", ""), c.value("status", ""),
                                 c.value("reason", ""), c.value("message", ""),
                                 absl::UnixEpoch()};
      if (c.contains("lastTransitionTime")) {
        auto at = TimeField(c["lastTransitionTime"],
                            "conditions[].lastTransitionTime");
        if (!at.ok()) return at.status();
        condition.last_transition = *at;
      }
      out.conditions.push_back(condition);
    }
    for (const json& w : status.value("warnings", json::array())) {
      if (w.is_string()) out.warnings.push_back(w.get<std::string>());
    }
    out.observed_generation = status.value("observedGeneration", int64_t{0});
    if (status.contains("pauseStartTime")) {
      auto when = TimeField(status["pauseStartTime"], "pauseStartTime");
      if (!when.ok()) return when.status();
      out.pause_started_at = *when;
    }
    for (const char* key : {"stepAnalysis", "backgroundAnalysis"}) {
      if (!status.contains(key)) continue;
      auto run = AnalysisRunFromJson(status[key]);
      if (!run.ok()) return run.status();
      (std::string(key) == "stepAnalysis" ? out.step_run : out.background_run) =
          *run;
    }
    for (const json& change : status.value("weightHistory", json::array())) {
      auto at = TimeField(change.value("at", json()), "weightHistory[].at");
      if (!at.ok()) return at.status();
      out.weight_history.push_back({*at, change.value("canaryWeight", 0)});
    }
    if (status.contains("preflight")) {
      auto preflight = PreflightStatusFromJson(status["preflight"]);
      if (!preflight.ok()) return preflight.status();
      out.preflight = *preflight;
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
              {"pausedByUser", status.paused_by_user()},
              {"observedGeneration", status.observed_generation}};
  if (status.pause_started_at) {
    out["pauseStartTime"] = TimeText(*status.pause_started_at);
  }
  if (status.pause_reason != PauseReason::kNone)
    out["pauseReason"] = PauseReasonName(status.pause_reason);
  if (status.progress_at) out["progressTime"] = TimeText(*status.progress_at);
  if (!status.conditions.empty()) {
    json conditions = json::array();
    for (const RolloutCondition& c : status.conditions) {
      conditions.push_back(
          {{"type", c.type},
           {"status", c.status},
           {"reason", c.reason},
           {"message", c.message},
           {"lastTransitionTime", TimeText(c.last_transition)}});
    }
    out["conditions"] = conditions;
  }
  if (!status.warnings.empty()) out["warnings"] = status.warnings;
  if (status.step_run)
    out["stepAnalysis"] = AnalysisRunToJson(*status.step_run);
  if (status.background_run)
    out["backgroundAnalysis"] = AnalysisRunToJson(*status.background_run);
  if (!status.weight_history.empty()) {
    json history = json::array();
    for (const WeightChange& change : status.weight_history) {
      history.push_back({{"at", TimeText(change.at)},
                         {"canaryWeight", change.canary_weight}});
    }
    out["weightHistory"] = history;
  }
  if (status.preflight)
    out["preflight"] = PreflightStatusToJson(*status.preflight);
  SanitizeStrings(out);
  return out;
}

RolloutStatus AsWritten(const RolloutStatus& status) {
  return ParseRolloutStatus(RolloutStatusToJson(status)).value_or(status);
}

}  // namespace smartcanary
