#include "controller/notify/webhook_target.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace smartcanary::notify {
namespace {

// The length of "scheme://authority", or 0 when `url` has no such prefix.
size_t OriginLength(absl::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos || scheme_end == 0) return 0;
  const size_t authority = scheme_end + 3;
  const size_t end = url.find_first_of("/?#", authority);
  return end == absl::string_view::npos ? url.size() : end;
}

absl::Status CheckUrl(const std::string& flag, const std::string& url) {
  const std::string lower = absl::AsciiStrToLower(url);
  if (!absl::StartsWith(lower, "http://") &&
      !absl::StartsWith(lower, "https://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": \"", RedactUrl(url), "\" is not an http:// or https:// URL"));
  }
  const size_t origin = OriginLength(url);
  const size_t host = url.find("://") + 3;
  if (origin <= host ||
      url.substr(host, origin - host).find_first_of(" \t\r\n@") !=
          std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": \"", RedactUrl(url),
                     "\" has no host, or a user, space or control character "
                     "in it"));
  }
  return absl::OkStatus();
}

}  // namespace

const char* WebhookFormatName(WebhookFormat format) {
  return format == WebhookFormat::kSlack ? "slack" : "webhook";
}

std::string RedactUrl(absl::string_view url) {
  const size_t origin = OriginLength(url);
  if (origin == 0) return "(not a URL)";
  // Userinfo ("user:pass@host") is a credential too.
  absl::string_view authority = url.substr(0, origin);
  const size_t at = authority.rfind('@');
  std::string shown = at == absl::string_view::npos
                          ? std::string(authority)
                          : absl::StrCat(url.substr(0, url.find("://") + 3),
                                         "…@", authority.substr(at + 1));
  return origin < url.size() ? shown + "/…" : shown;
}

std::vector<std::string> UrlsInText(absl::string_view text) {
  std::vector<std::string> urls;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    for (absl::string_view url :
         absl::StrSplit(line, absl::ByAnyChar(", \t\r"), absl::SkipEmpty()))
      urls.emplace_back(url);
  }
  return urls;
}

absl::StatusOr<std::vector<WebhookTarget>> ParseWebhookTargets(
    const std::vector<std::string>& generic_urls,
    const std::vector<std::string>& slack_urls) {
  std::vector<WebhookTarget> targets;
  auto add = [&](const std::vector<std::string>& urls, const std::string& flag,
                 WebhookFormat format) -> absl::Status {
    for (const std::string& raw : urls) {
      const std::string url(absl::StripAsciiWhitespace(raw));
      if (url.empty()) continue;
      if (absl::Status ok = CheckUrl(flag, url); !ok.ok()) return ok;
      targets.push_back({url, format});
    }
    return absl::OkStatus();
  };
  if (absl::Status ok =
          add(generic_urls, "--notify-webhook-url", WebhookFormat::kGeneric);
      !ok.ok())
    return ok;
  if (absl::Status ok =
          add(slack_urls, "--notify-slack-url", WebhookFormat::kSlack);
      !ok.ok())
    return ok;
  return targets;
}

}  // namespace smartcanary::notify
