#ifndef SMARTCANARY_CONTROLLER_NOTIFY_PAYLOADS_H_
#define SMARTCANARY_CONTROLLER_NOTIFY_PAYLOADS_H_

#include <string>

#include "controller/notify/notification.h"
#include "nlohmann/json.hpp"

namespace smartcanary::notify {

// The generic webhook body: {"rollout", "namespace", "uid", "event",
// "reason", "type", "fromPhase", "toPhase", "weight", "verdict", "message",
// "time" (RFC 3339, UTC)}. Pure.
nlohmann::json GenericPayload(const Notification& n);

// Slack's incoming-webhook body: "text" (the fallback shown in
// notifications) and Block Kit "blocks" with the same facts. Text from the
// rollout is escaped for Slack's mrkdwn (&, <, >), so a message cannot
// mention @channel or forge a link. Pure.
nlohmann::json SlackPayload(const Notification& n);

// `text` with Slack's three control characters escaped. Pure.
std::string SlackEscape(const std::string& text);

}  // namespace smartcanary::notify

#endif  // SMARTCANARY_CONTROLLER_NOTIFY_PAYLOADS_H_
