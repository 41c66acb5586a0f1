#include "controller/kube/kube_api.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace smartcanary::kube {
namespace {

using nlohmann::json;

std::string StringField(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

absl::Status StatusFromHttp(int code, absl::string_view method,
                            absl::string_view path, absl::string_view body) {
  std::string message(body);
  std::string reason;
  if (json parsed = json::parse(body.begin(), body.end(), nullptr, false);
      parsed.is_object()) {
    if (std::string text = StringField(parsed, "message"); !text.empty())
      message = text;
    reason = StringField(parsed, "reason");
  }
  message = absl::StrCat(method, " ", path, ": ", message);
  switch (code) {
    case 400:
    case 422:
      return absl::InvalidArgumentError(message);
    case 401:
      return absl::UnauthenticatedError(message);
    case 403:
      return absl::PermissionDeniedError(message);
    case 404:
      return absl::NotFoundError(message);
    case 409:
      return reason == "AlreadyExists" ? absl::AlreadyExistsError(message)
                                       : absl::AbortedError(message);
    case 410:
      return absl::OutOfRangeError(message);
    default:
      return absl::UnavailableError(
          absl::StrCat(message, " (HTTP ", code, ")"));
  }
}

json StatusJson(int code, absl::string_view reason, absl::string_view message) {
  return {
      {"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
      {"status", "Failure"}, {"message", message}, {"reason", reason},
      {"code", code}};
}

std::string QueryEscape(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", static_cast<unsigned char>(c));
    }
  }
  return out;
}

std::string WithQuery(absl::string_view path, absl::string_view key,
                      absl::string_view value) {
  const char* separator = path.find('?') == absl::string_view::npos ? "?" : "&";
  return absl::StrCat(path, separator, key, "=", QueryEscape(value));
}

bool HasQueryParam(absl::string_view path, absl::string_view key) {
  const size_t query = path.find('?');
  if (query == absl::string_view::npos) return false;
  for (absl::string_view pair : absl::StrSplit(path.substr(query + 1), '&')) {
    if (pair.substr(0, pair.find('=')) == key) return true;
  }
  return false;
}

absl::StatusOr<ListResult> ListPages(
    const std::function<absl::StatusOr<json>(const std::string&)>& get_page,
    const std::string& collection, int limit, int max_restarts) {
  const std::string first = WithQuery(collection, "limit", absl::StrCat(limit));
  for (int restarts = 0;; ++restarts) {
    ListResult result;
    std::string next = first;
    absl::Status failed;
    while (!next.empty()) {
      absl::StatusOr<json> page = get_page(next);
      if (!page.ok()) {
        failed = page.status();
        break;
      }
      if (!page->is_object()) {
        return absl::InternalError(
            absl::StrCat("GET ", next, ": the answer is not an object"));
      }
      const json& metadata = page->value("metadata", json::object());
      auto items = page->find("items");
      if (items != page->end() && items->is_array()) {
        for (json& item : *items) result.items.push_back(std::move(item));
      }
      result.resource_version = StringField(metadata, "resourceVersion");
      const std::string token = StringField(metadata, "continue");
      next = token.empty() ? "" : WithQuery(first, "continue", token);
    }
    if (failed.ok()) return result;
    // A continue token outlives etcd's compaction only so long: start over.
    if (absl::IsOutOfRange(failed) && next != first &&
        restarts < max_restarts) {
      continue;
    }
    return failed;
  }
}

}  // namespace smartcanary::kube
