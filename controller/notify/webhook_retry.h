#ifndef SMARTCANARY_CONTROLLER_NOTIFY_WEBHOOK_RETRY_H_
#define SMARTCANARY_CONTROLLER_NOTIFY_WEBHOOK_RETRY_H_

#include "absl/status/statusor.h"
#include "common/http_transport.h"
#include "common/retry.h"

namespace smartcanary::notify {

// A few tries, spread out with jittered backoff: a receiver that is down for
// a minute loses the notification rather than holding the queue for longer.
RetryPolicy WebhookRetryPolicy();

// Whether one webhook POST is worth repeating: yes after a timeout, a lost or
// refused connection, 408, 429 and 5xx (honouring Retry-After); no after a
// 2xx (done) or any other 4xx (the receiver refuses this body; repeating it
// changes nothing). Pure.
RetryVerdict WebhookRetryVerdict(const absl::StatusOr<HttpResponse>& result);

// Whether the receiver took it (2xx). Pure.
bool WebhookDelivered(const absl::StatusOr<HttpResponse>& result);

}  // namespace smartcanary::notify

#endif  // SMARTCANARY_CONTROLLER_NOTIFY_WEBHOOK_RETRY_H_
