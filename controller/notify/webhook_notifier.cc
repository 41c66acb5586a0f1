#include "controller/notify/webhook_notifier.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "controller/notify/payloads.h"
#include "controller/notify/webhook_retry.h"
#include "spdlog/spdlog.h"

namespace smartcanary::notify {
namespace {

std::string SinkLabel(const WebhookTarget& target) {
  return absl::StrCat("sink=\"", WebhookFormatName(target.format), "\"");
}

}  // namespace

WebhookNotifier::WebhookNotifier(std::vector<WebhookTarget> targets,
                                 WebhookOptions options, Metrics& metrics)
    : options_(std::move(options)),
      metrics_(metrics),
      transport_(
          HttpTransportOptions{{}, UserAgent("canaryd"), options_.timeout}) {
  for (WebhookTarget& target : targets) {
    const std::string labels =
        absl::StrCat(SinkLabel(target), ",reason=\"dropped\"");
    auto queue =
        std::make_unique<DeliveryQueue>(options_.queue_limit, [this, labels] {
          metrics_.Count("canaryd_notification_failures_total", labels);
        });
    targets_.push_back({std::move(target), std::move(queue)});
  }
}

WebhookNotifier::~WebhookNotifier() {
  for (Target& t : targets_) t.queue->Stop();
}

void WebhookNotifier::Publish(const CanaryRollout& rollout,
                              const std::vector<RolloutEvent>& events) {
  PublishChange(rollout, rollout.status, events);
}

void WebhookNotifier::PublishChange(const CanaryRollout& rollout,
                                    const RolloutStatus& before,
                                    const std::vector<RolloutEvent>& events) {
  const std::vector<Notification> notifications =
      NotificationsFor(rollout, before, events, absl::Now());
  for (Target& t : targets_) {
    for (const Notification& n : notifications) {
      std::string body = t.target.format == WebhookFormat::kSlack
                             ? SlackPayload(n).dump()
                             : GenericPayload(n).dump();
      const WebhookTarget* target = &t.target;
      t.queue->Push([this, target, body = std::move(body)](
                        const std::function<bool()>& stopping) {
        Deliver(*target, body, stopping);
      });
    }
  }
}

void WebhookNotifier::Deliver(const WebhookTarget& target,
                              const std::string& body,
                              const std::function<bool()>& stopping) {
  HttpRequest request;
  request.method = "POST";
  request.url = target.url;
  request.headers = {"Content-Type: application/json"};
  request.body = body;
  request.timeout = options_.timeout;
  request.max_response_bytes = size_t{64} << 10;
  request.cancelled = stopping;
  const std::function<absl::StatusOr<HttpResponse>()> attempt = [&] {
    return transport_.Do(request);
  };
  const std::function<RetryVerdict(const absl::StatusOr<HttpResponse>&)>
      verdict = WebhookRetryVerdict;
  absl::StatusOr<HttpResponse> result =
      RetryLoop(options_.retry, RetryClock::Real(stopping), attempt, verdict);
  if (WebhookDelivered(result)) {
    metrics_.Count("canaryd_notifications_total", SinkLabel(target));
    return;
  }
  metrics_.Count("canaryd_notification_failures_total",
                 absl::StrCat(SinkLabel(target), ",reason=\"failed\""));
  // The transport's errors name the URL; a Slack URL is a credential.
  const std::string why =
      result.ok() ? absl::StrCat("HTTP ", result->status)
                  : absl::StrReplaceAll(result.status().ToString(),
                                        {{target.url, RedactUrl(target.url)}});
  spdlog::warn("notify: {} {} not delivered: {}",
               WebhookFormatName(target.format), RedactUrl(target.url), why);
}

}  // namespace smartcanary::notify
