#include "controller/notify/webhook_retry.h"

namespace smartcanary::notify {

RetryPolicy WebhookRetryPolicy() {
  RetryPolicy policy;
  policy.max_attempts = 4;
  policy.initial_backoff = absl::Milliseconds(500);
  policy.max_backoff = absl::Seconds(10);
  policy.multiplier = 3;
  policy.jitter = 0.5;
  policy.max_total = absl::Minutes(1);
  return policy;
}

bool WebhookDelivered(const absl::StatusOr<HttpResponse>& result) {
  return result.ok() && result->status >= 200 && result->status < 300;
}

RetryVerdict WebhookRetryVerdict(const absl::StatusOr<HttpResponse>& result) {
  if (!result.ok()) {
    const absl::StatusCode code = result.status().code();
    return {code == absl::StatusCode::kUnavailable ||
                code == absl::StatusCode::kDeadlineExceeded,
            std::nullopt};
  }
  const int status = result->status;
  const bool retry = status == 408 || status == 429 || status >= 500;
  return {retry, retry ? result->retry_after : std::nullopt};
}

}  // namespace smartcanary::notify
