#ifndef SMARTCANARY_CONTROLLER_NOTIFY_FAN_OUT_SINK_H_
#define SMARTCANARY_CONTROLLER_NOTIFY_FAN_OUT_SINK_H_

#include <vector>

#include "controller/rollout_events.h"

namespace smartcanary::notify {

// Hands every change to each of several sinks (Grafana, Events, webhooks),
// in order; each sink queues on its own, so none waits for another.
class FanOutSink : public EventSink {
 public:
  explicit FanOutSink(std::vector<EventSink*> sinks) : sinks_(sinks) {}

  void Publish(const CanaryRollout& rollout,
               const std::vector<RolloutEvent>& events) override {
    for (EventSink* sink : sinks_) sink->Publish(rollout, events);
  }
  void PublishChange(const CanaryRollout& rollout, const RolloutStatus& before,
                     const std::vector<RolloutEvent>& events) override {
    for (EventSink* sink : sinks_) sink->PublishChange(rollout, before, events);
  }

 private:
  std::vector<EventSink*> sinks_;
};

}  // namespace smartcanary::notify

#endif  // SMARTCANARY_CONTROLLER_NOTIFY_FAN_OUT_SINK_H_
