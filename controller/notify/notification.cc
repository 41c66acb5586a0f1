#include "controller/notify/notification.h"

#include <cctype>
#include <map>

namespace smartcanary::notify {
namespace {

// "progress-deadline" -> "ProgressDeadline": a kind no table knows still
// makes a valid CamelCase reason.
std::string CamelCase(const std::string& kind) {
  std::string out;
  bool upper = true;
  for (char c : kind) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      upper = true;
      continue;
    }
    out += upper
               ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
               : c;
    upper = false;
  }
  return out.empty() ? "RolloutEvent" : out;
}

}  // namespace

const char* EventTypeName(EventType type) {
  return type == EventType::kWarning ? "Warning" : "Normal";
}

Reason ReasonFor(const RolloutEvent& event) {
  static const auto* kKinds = new std::map<std::string, Reason>{
      {"started", {"RolloutStarted", EventType::kNormal}},
      {"weight", {"WeightSet", EventType::kNormal}},
      {"paused", {"Paused", EventType::kNormal}},
      {"resumed", {"Resumed", EventType::kNormal}},
      {"promoted", {"Promoted", EventType::kNormal}},
      {"completed", {"Completed", EventType::kNormal}},
      {"retried", {"Retried", EventType::kNormal}},
      {"aborted", {"Aborted", EventType::kWarning}},
      {"rolled-back", {"RolledBack", EventType::kWarning}},
      {"warning", {"AnalysisWarning", EventType::kWarning}},
      {"progress-deadline", {"ProgressDeadlineExceeded", EventType::kWarning}},
  };
  if (event.kind == "analysis") {
    if (event.verdict.empty())
      return {"AnalysisMeasurement", EventType::kWarning};
    const bool good =
        event.verdict == "Running" || event.verdict == "Successful";
    return {"Analysis" + CamelCase(event.verdict),
            good ? EventType::kNormal : EventType::kWarning};
  }
  if (event.kind == "preflight") {
    // PreflightPassed, PreflightWarning, PreflightUnknown.
    return {"Preflight" + event.verdict, event.verdict == "Passed"
                                             ? EventType::kNormal
                                             : EventType::kWarning};
  }
  auto it = kKinds->find(event.kind);
  if (it != kKinds->end()) return it->second;
  return {CamelCase(event.kind), EventType::kNormal};
}

std::vector<Notification> NotificationsFor(
    const CanaryRollout& rollout, const RolloutStatus& before,
    const std::vector<RolloutEvent>& events, absl::Time at) {
  std::vector<Notification> out;
  for (const RolloutEvent& event : events) {
    const Reason reason = ReasonFor(event);
    out.push_back(
        {rollout.namespace_name, rollout.name, rollout.uid,
         rollout.resource_version, event.kind, reason.reason, reason.type,
         PhaseName(before.phase), PhaseName(rollout.status.phase),
         rollout.status.canary_weight, event.verdict, event.text, at});
  }
  return out;
}

}  // namespace smartcanary::notify
