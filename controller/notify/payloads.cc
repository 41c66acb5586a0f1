#include "controller/notify/payloads.h"

#include "absl/strings/str_cat.h"

namespace smartcanary::notify {

using nlohmann::json;

json GenericPayload(const Notification& n) {
  return {{"rollout", n.name},
          {"namespace", n.ns},
          {"uid", n.uid},
          {"event", n.kind},
          {"reason", n.reason},
          {"type", EventTypeName(n.type)},
          {"fromPhase", n.from_phase},
          {"toPhase", n.to_phase},
          {"weight", n.weight},
          {"verdict", n.verdict},
          {"message", n.message},
          {"time", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", n.at,
                                    absl::UTCTimeZone())}};
}

std::string SlackEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

json SlackPayload(const Notification& n) {
  const std::string icon =
      n.type == EventType::kWarning ? ":warning:" : ":large_green_circle:";
  const std::string headline =
      absl::StrCat(icon, " *", SlackEscape(n.ns), "/", SlackEscape(n.name),
                   "* ", n.reason, ": ", SlackEscape(n.message));
  const std::string facts =
      absl::StrCat(n.from_phase == n.to_phase
                       ? n.to_phase
                       : absl::StrCat(n.from_phase, " → ", n.to_phase),
                   " · canary ", n.weight, "%",
                   n.verdict.empty() ? "" : " · verdict " + n.verdict);
  return {{"text", headline},
          {"blocks",
           json::array({{{"type", "section"},
                         {"text", {{"type", "mrkdwn"}, {"text", headline}}}},
                        {{"type", "context"},
                         {"elements", json::array({{{"type", "mrkdwn"},
                                                    {"text", facts}}})}}})}};
}

}  // namespace smartcanary::notify
