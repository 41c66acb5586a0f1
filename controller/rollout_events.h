#ifndef SMARTCANARY_CONTROLLER_ROLLOUT_EVENTS_H_
#define SMARTCANARY_CONTROLLER_ROLLOUT_EVENTS_H_

#include <optional>
#include <string>
#include <vector>

#include "controller/canary_rollout.h"
#include "controller/state_machine.h"

namespace smartcanary {

// Something a person watching a dashboard wants marked: started, weight,
// analysis, paused (by a person, a pause step, or an analysis hold),
// promoted, resumed (also when an outage hold ends by itself), completed,
// aborted, rolled-back, retried, warning (advice about an analysis), and
// progress-deadline.
struct RolloutEvent {
  std::string kind;
  std::string text;
  bool operator==(const RolloutEvent&) const = default;
};

// The events a status change means. `command` is set when a person's or CD
// system's command caused it. Pure.
std::vector<RolloutEvent> EventsBetween(
    const RolloutStatus& before, const RolloutStatus& after,
    std::optional<Command> command = std::nullopt);

// Where events go (Grafana, logs). Publish must not block for long.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Publish(const CanaryRollout& rollout,
                       const std::vector<RolloutEvent>& events) = 0;
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ROLLOUT_EVENTS_H_
