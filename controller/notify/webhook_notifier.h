#ifndef SMARTCANARY_CONTROLLER_NOTIFY_WEBHOOK_NOTIFIER_H_
#define SMARTCANARY_CONTROLLER_NOTIFY_WEBHOOK_NOTIFIER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/http_transport.h"
#include "common/retry.h"
#include "controller/metrics.h"
#include "controller/notify/delivery_queue.h"
#include "controller/notify/notification.h"
#include "controller/notify/webhook_retry.h"
#include "controller/notify/webhook_target.h"
#include "controller/rollout_events.h"

namespace smartcanary::notify {

struct WebhookOptions {
  size_t queue_limit = 1000;                  // per target
  absl::Duration timeout = absl::Seconds(5);  // one POST
  RetryPolicy retry = WebhookRetryPolicy();
};

// POSTs every transition and verdict to each target (generic JSON or
// Slack), each target from a bounded queue and thread of its own: a
// receiver that hangs or fails delays only its own notifications, never a
// reconcile or another target. Counts canaryd_notifications_total and
// canaryd_notification_failures_total{sink,reason="failed"|"dropped"}; logs
// only redacted URLs.
class WebhookNotifier : public EventSink {
 public:
  WebhookNotifier(std::vector<WebhookTarget> targets, WebhookOptions options,
                  Metrics& metrics);
  ~WebhookNotifier() override;

  void Publish(const CanaryRollout& rollout,
               const std::vector<RolloutEvent>& events) override;
  void PublishChange(const CanaryRollout& rollout, const RolloutStatus& before,
                     const std::vector<RolloutEvent>& events) override;

 private:
  struct Target {
    WebhookTarget target;
    std::unique_ptr<DeliveryQueue> queue;
  };
  void Deliver(const WebhookTarget& target, const std::string& body,
               const std::function<bool()>& stopping);

  WebhookOptions options_;
  Metrics& metrics_;
  HttpTransport transport_;
  std::vector<Target> targets_;
};

}  // namespace smartcanary::notify

#endif  // SMARTCANARY_CONTROLLER_NOTIFY_WEBHOOK_NOTIFIER_H_
