#ifndef SMARTCANARY_CONTROLLER_NOTIFY_WEBHOOK_TARGET_H_
#define SMARTCANARY_CONTROLLER_NOTIFY_WEBHOOK_TARGET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smartcanary::notify {

enum class WebhookFormat { kGeneric, kSlack };
const char* WebhookFormatName(WebhookFormat format);  // "webhook", "slack"

struct WebhookTarget {
  std::string url;  // may hold a secret (Slack's do): log only Redacted()
  WebhookFormat format = WebhookFormat::kGeneric;
};

// "scheme://host[:port]/…": what logs and errors may show of a URL whose
// path or query can be a credential. Pure.
std::string RedactUrl(absl::string_view url);

// The URLs in a file's text (a mounted Secret, so that a Slack URL is not in
// the Deployment's arguments): separated by commas, spaces or new lines;
// lines starting with '#' are comments. Pure.
std::vector<std::string> UrlsInText(absl::string_view text);

// The targets of the --notify-webhook-url and --notify-slack-url values
// (each a list, with the URLs of their -file flags; empty entries are
// skipped). An entry that is not an
// http(s) URL with a host is INVALID_ARGUMENT naming the flag, showing only
// the redacted URL. Pure.
absl::StatusOr<std::vector<WebhookTarget>> ParseWebhookTargets(
    const std::vector<std::string>& generic_urls,
    const std::vector<std::string>& slack_urls);

}  // namespace smartcanary::notify

#endif  // SMARTCANARY_CONTROLLER_NOTIFY_WEBHOOK_TARGET_H_
