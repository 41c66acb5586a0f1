#ifndef SMARTCANARY_CONTROLLER_ROLLOUT_EVENTS_H_
#define SMARTCANARY_CONTROLLER_ROLLOUT_EVENTS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "controller/canary_rollout.h"
#include "controller/state_machine.h"

namespace smartcanary {

// Something a person watching a dashboard wants marked: started, weight,
// analysis, paused (by a person, a pause step, or an analysis hold),
// promoted, resumed (also when an outage hold ends by itself), completed,
// aborted, rolled-back, retried, warning (advice about an analysis),
// progress-deadline, and preflight (a new pre-flight verdict: Passed,
// Warning or Unknown).
struct RolloutEvent {
  // Constructors rather than an aggregate, so that {kind, text} stays a
  // complete initializer now that a verdict may follow.
  RolloutEvent() = default;
  RolloutEvent(std::string kind, std::string text, std::string verdict = "")
      : kind(std::move(kind)),
        text(std::move(text)),
        verdict(std::move(verdict)) {}

  std::string kind;
  std::string text;
  // An analysis run's new phase (RunPhaseName: "Running" when it starts or
  // returns from an outage, else its verdict); empty for other events.
  std::string verdict;
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
  // The same, also given the status the change left (the phase it came
  // from); sinks that report transitions override it.
  virtual void PublishChange(const CanaryRollout& rollout,
                             const RolloutStatus& before,
                             const std::vector<RolloutEvent>& events) {
    (void)before;
    Publish(rollout, events);
  }
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ROLLOUT_EVENTS_H_
