#include "controller/notify/recorder_sink.h"

#include "controller/kube/resources.h"
#include "controller/notify/notification.h"
#include "spdlog/spdlog.h"

namespace smartcanary::notify {
namespace {

constexpr char kSink[] = "sink=\"kube-events\"";

}  // namespace

EventRecorderSink::EventRecorderSink(EventRecorder& recorder, Metrics& metrics,
                                     size_t queue_limit)
    : recorder_(recorder), metrics_(metrics), queue_(queue_limit, [this] {
        metrics_.Count("canaryd_notification_failures_total",
                       std::string(kSink) + ",reason=\"dropped\"");
      }) {}

EventRecorderSink::~EventRecorderSink() { queue_.Stop(); }

void EventRecorderSink::Publish(const CanaryRollout& rollout,
                                const std::vector<RolloutEvent>& events) {
  PublishChange(rollout, rollout.status, events);
}

void EventRecorderSink::PublishChange(const CanaryRollout& rollout,
                                      const RolloutStatus& before,
                                      const std::vector<RolloutEvent>& events) {
  const ObjectRef object{kube::kCanaryRolloutApiVersion,
                         "CanaryRollout",
                         rollout.namespace_name,
                         rollout.name,
                         rollout.uid,
                         rollout.resource_version};
  for (Notification& n :
       NotificationsFor(rollout, before, events, absl::Now())) {
    queue_.Push([this, object, n = std::move(n)](const std::function<bool()>&) {
      absl::Status recorded =
          recorder_.Record(object, n.type, n.reason, n.message, n.at);
      if (recorded.ok()) {
        metrics_.Count("canaryd_notifications_total", kSink);
        return;
      }
      metrics_.Count("canaryd_notification_failures_total",
                     std::string(kSink) + ",reason=\"failed\"");
      spdlog::warn("event {} on {}/{} not recorded: {}", n.reason, n.ns, n.name,
                   recorded.ToString());
    });
  }
}

}  // namespace smartcanary::notify
