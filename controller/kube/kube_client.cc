#include "controller/kube/kube_client.h"

#include <sys/stat.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"

namespace smartcanary::kube {
namespace {

using nlohmann::json;

// A request body. Strings that are not valid UTF-8 (a message that quotes a
// cut user input) get U+FFFD instead of making dump() throw: the write still
// says what happened.
std::string Serialize(const json& body) {
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Applying it twice gives what applying it once gave, or fails: it is
// guarded by a test or a resourceVersion precondition, or only replaces,
// removes and tests (an `add` may append to a list, `move` and `copy` may
// duplicate).
bool PatchIsSafeToRepeat(const json& ops) {
  if (!ops.is_array()) return false;
  bool only_replaces = true;
  for (const json& op : ops) {
    if (!op.is_object()) return false;
    const json name = op.value("op", json());
    const json path = op.value("path", json());
    if (name == "test") return true;
    if (name == "replace" && path == "/metadata/resourceVersion") return true;
    if (name != "replace" && name != "remove") only_replaces = false;
  }
  return only_replaces;
}

// Splits a watch stream into its JSON lines.
class EventLines {
 public:
  EventLines(const KubeApi::EventHandler& on_event, size_t max_bytes)
      : on_event_(on_event), max_bytes_(max_bytes) {}

  bool Feed(absl::string_view chunk) {
    buffer_.append(chunk.data(), chunk.size());
    size_t start = 0, newline;
    while ((newline = buffer_.find('\n', start)) != std::string::npos) {
      const absl::string_view line(buffer_.data() + start, newline - start);
      start = newline + 1;
      if (line.empty()) continue;
      json event = json::parse(line.begin(), line.end(), nullptr, false);
      if (!event.is_object()) {
        error_ = absl::InternalError(
            absl::StrCat("unreadable watch event: ", line.substr(0, 200)));
        return false;
      }
      if (!on_event_(event)) {
        stopped_ = true;
        return false;
      }
    }
    buffer_.erase(0, start);
    if (buffer_.size() > max_bytes_) {
      error_ = absl::ResourceExhaustedError(absl::StrCat(
          "a watch event exceeds the ", FormatBytes(max_bytes_), " cap"));
      return false;
    }
    return true;
  }
  bool stopped() const { return stopped_; }
  const absl::Status& error() const { return error_; }

 private:
  const KubeApi::EventHandler& on_event_;
  size_t max_bytes_;
  std::string buffer_;
  bool stopped_ = false;
  absl::Status error_;
};

// The transport's own failures, as KubeApi reports them.
absl::Status TransportError(const absl::Status& status) {
  if (absl::IsDeadlineExceeded(status))
    return absl::UnavailableError(status.message());
  return status;
}

}  // namespace

KubeClient::KubeClient(KubeConfig config, absl::Duration timeout)
    : KubeClient(std::move(config), [timeout] {
        KubeClientOptions options;
        options.timeout = timeout;
        return options;
      }()) {}

KubeClient::KubeClient(KubeConfig config, KubeClientOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      transport_(std::make_unique<HttpTransport>(HttpTransportOptions{
          {config_.ca_pem, config_.client_cert_pem, config_.client_key_pem},
          options_.user_agent,
          options_.connect_timeout})) {
  absl::MutexLock lock(&token_mu_);
  token_ = config_.token;
}

std::string KubeClient::Token(bool force, bool* changed) const {
  absl::MutexLock lock(&token_mu_);
  if (changed != nullptr) *changed = false;
  if (config_.token_file.empty()) return token_;
  FileStamp stamp;
  if (struct stat info; stat(config_.token_file.c_str(), &info) == 0) {
    stamp = {info.st_ino, info.st_size,
             static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 +
                 info.st_mtim.tv_nsec};
  }
  if (!force && stamp == token_stamp_) return token_;
  // Unreadable (mid-rotation): keep the old token; a 401 will tell.
  if (auto token = ReadSecretFile(config_.token_file); token.ok()) {
    if (changed != nullptr) *changed = *token != token_;
    token_ = *token;
    token_stamp_ = stamp;
  }
  return token_;
}

HttpRequest KubeClient::NewRequest(const std::string& method,
                                   const std::string& path) const {
  HttpRequest request;
  request.method = method;
  request.url = config_.server + path;
  request.headers.push_back("Accept: application/json");
  if (const std::string token = Token(false); !token.empty())
    request.headers.push_back(absl::StrCat("Authorization: Bearer ", token));
  request.timeout = options_.timeout;
  request.max_response_bytes = options_.max_response_bytes;
  return request;
}

absl::StatusOr<json> KubeClient::Request(const std::string& method,
                                         const std::string& path,
                                         const std::string& body,
                                         const std::string& content_type,
                                         bool idempotent) const {
  absl::StatusOr<HttpResponse> response;
  const absl::Time deadline = absl::Now() + options_.timeout;
  for (bool retried_auth = false;; retried_auth = true) {
    HttpRequest request = NewRequest(method, path);
    request.deadline = deadline;
    if (!content_type.empty())
      request.headers.push_back("Content-Type: " + content_type);
    request.body = body;
    request.idempotent = idempotent;
    response = transport_->Send(request, options_.retry, RetryClock::Real());
    if (!response.ok()) return TransportError(response.status());
    // The token may have rotated between our stat and the server's check.
    bool changed = false;
    if (response->status == 401 && !retried_auth) Token(true, &changed);
    if (!changed) break;
  }
  if (response->status < 200 || response->status >= 300)
    return StatusFromHttp(response->status, method, path, response->body);
  json parsed = json::parse(response->body, nullptr, false);
  if (parsed.is_discarded()) {
    return absl::InternalError(
        absl::StrCat(method, " ", path, ": response is not JSON"));
  }
  return parsed;
}

absl::StatusOr<json> KubeClient::Get(const std::string& path) const {
  return Request("GET", path, "", "", true);
}

absl::StatusOr<ListResult> KubeClient::List(
    const std::string& collection) const {
  return ListPages([this](const std::string& page) { return Get(page); },
                   collection, options_.list_page_size);
}

absl::StatusOr<json> KubeClient::Post(const std::string& path,
                                      const json& body) const {
  return Request("POST",
                 WithQuery(path, "fieldManager", options_.field_manager),
                 Serialize(body), "application/json", false);
}

absl::StatusOr<json> KubeClient::Put(const std::string& path,
                                     const json& body) const {
  return Request("PUT", WithQuery(path, "fieldManager", options_.field_manager),
                 Serialize(body), "application/json", true);
}

absl::StatusOr<json> KubeClient::JsonPatch(const std::string& path,
                                           const json& ops) const {
  return Request(
      "PATCH", WithQuery(path, "fieldManager", options_.field_manager),
      Serialize(ops), "application/json-patch+json", PatchIsSafeToRepeat(ops));
}

absl::StatusOr<json> KubeClient::MergePatch(const std::string& path,
                                            const json& patch) const {
  // Setting the same fields twice is the same as once.
  return Request("PATCH",
                 WithQuery(path, "fieldManager", options_.field_manager),
                 Serialize(patch), "application/merge-patch+json", true);
}

absl::StatusOr<json> KubeClient::Delete(const std::string& path) const {
  // Deleting writes no fields: the API server takes no fieldManager here.
  return Request("DELETE", path, "", "", true);
}

absl::Status KubeClient::Watch(const std::string& path,
                               const EventHandler& on_event,
                               const std::function<bool()>& cancelled) const {
  const std::string watch_path =
      HasQueryParam(path, "allowWatchBookmarks")
          ? path
          : WithQuery(path, "allowWatchBookmarks", "true");
  HttpRequest request = NewRequest("GET", watch_path);
  request.timeout = absl::ZeroDuration();
  request.stall_timeout = options_.watch_stall_timeout;
  request.cancelled = cancelled;
  EventLines lines(on_event, options_.max_response_bytes);
  absl::StatusOr<HttpResponse> response = transport_->Stream(
      request, [&lines](absl::string_view chunk) { return lines.Feed(chunk); });
  if (lines.stopped() || (cancelled && cancelled())) return absl::OkStatus();
  if (!lines.error().ok()) {
    return absl::Status(
        lines.error().code(),
        absl::StrCat("WATCH ", path, ": ", lines.error().message()));
  }
  if (!response.ok()) {
    if (absl::IsCancelled(response.status())) return absl::OkStatus();
    if (absl::IsDeadlineExceeded(response.status())) {
      return absl::UnavailableError(absl::StrCat(
          "WATCH ", path, ": no data for ",
          absl::FormatDuration(options_.watch_stall_timeout),
          ", the stream is taken as dead (", response.status().message(), ")"));
    }
    return absl::UnavailableError(response.status().message());
  }
  if (response->status == 401) Token(true);  // for the caller's next try
  if (response->status < 200 || response->status >= 300)
    return StatusFromHttp(response->status, "WATCH", path, response->body);
  return absl::OkStatus();
}

}  // namespace smartcanary::kube
