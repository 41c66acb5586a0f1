#ifndef SMARTCANARY_CONTROLLER_NOTIFY_NOTIFICATION_H_
#define SMARTCANARY_CONTROLLER_NOTIFY_NOTIFICATION_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "controller/canary_rollout.h"
#include "controller/rollout_events.h"

namespace smartcanary::notify {

// Kubernetes' two Event types: Warning is what an on-call person filters
// for (a rollback, an abort, a failed or erring analysis).
enum class EventType { kNormal, kWarning };
const char* EventTypeName(EventType type);

// One transition or verdict of one rollout, as Events and webhooks carry
// it.
struct Notification {
  std::string ns;
  std::string name;
  std::string uid;
  std::string resource_version;
  std::string kind;    // RolloutEvent::kind ("weight", "rolled-back", ...)
  std::string reason;  // CamelCase, as Kubernetes Events spell reasons
  EventType type = EventType::kNormal;
  std::string from_phase;  // the phase before the change
  std::string to_phase;    // the phase after it (may be the same)
  int weight = 0;          // the canary's weight after the change
  std::string verdict;     // analysis events: the run's phase
  std::string message;
  absl::Time at;

  bool operator==(const Notification&) const = default;
};

struct Reason {
  std::string reason;
  EventType type;
};

// The Event reason and type of a rollout event: started RolloutStarted,
// weight WeightSet, paused Paused, resumed Resumed, promoted Promoted,
// completed Completed, retried Retried, aborted Aborted (Warning),
// rolled-back RolledBack (Warning; the rollout is Degraded), warning
// AnalysisWarning (Warning), progress-deadline ProgressDeadlineExceeded
// (Warning), analysis Analysis<Verdict> (AnalysisRunning, AnalysisSuccessful;
// AnalysisFailed, AnalysisInconclusive, AnalysisError as Warnings) or
// AnalysisMeasurement (Warning) for a measurement that did not succeed.
// Pure.
Reason ReasonFor(const RolloutEvent& event);

// The notifications of one status write: `rollout` as written, `before` the
// status it replaced. Pure.
std::vector<Notification> NotificationsFor(
    const CanaryRollout& rollout, const RolloutStatus& before,
    const std::vector<RolloutEvent>& events, absl::Time at);

}  // namespace smartcanary::notify

#endif  // SMARTCANARY_CONTROLLER_NOTIFY_NOTIFICATION_H_
