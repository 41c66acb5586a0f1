#ifndef SMARTCANARY_CONTROLLER_NOTIFY_RECORDER_SINK_H_
#define SMARTCANARY_CONTROLLER_NOTIFY_RECORDER_SINK_H_

#include "controller/metrics.h"
#include "controller/notify/delivery_queue.h"
#include "controller/notify/event_recorder.h"
#include "controller/rollout_events.h"

namespace smartcanary::notify {

// Turns every transition and verdict into an Event on the CanaryRollout,
// written from a bounded queue on a thread of its own so that a slow API
// server never holds up a reconcile. Counts
// canaryd_notifications_total{sink="kube-events"} and
// canaryd_notification_failures_total{sink="kube-events",reason=...}.
class EventRecorderSink : public EventSink {
 public:
  EventRecorderSink(EventRecorder& recorder, Metrics& metrics,
                    size_t queue_limit = 1000);
  ~EventRecorderSink() override;

  void Publish(const CanaryRollout& rollout,
               const std::vector<RolloutEvent>& events) override;
  void PublishChange(const CanaryRollout& rollout, const RolloutStatus& before,
                     const std::vector<RolloutEvent>& events) override;

  // Stops the thread; undelivered Events are counted as dropped.
  void Stop() { queue_.Stop(); }

 private:
  EventRecorder& recorder_;
  Metrics& metrics_;
  DeliveryQueue queue_;
};

}  // namespace smartcanary::notify

#endif  // SMARTCANARY_CONTROLLER_NOTIFY_RECORDER_SINK_H_
