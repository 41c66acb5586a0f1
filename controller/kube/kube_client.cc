#include "controller/kube/kube_client.h"

#include <curl/curl.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace smartcanary::kube {
namespace {

using nlohmann::json;

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct HeaderDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;
using HeaderList = std::unique_ptr<curl_slist, HeaderDeleter>;

size_t AppendToString(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

void SetBlob(CURL* curl, CURLoption option, const std::string& pem) {
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(curl, option, &blob);
}

// Credentials and TLS settings shared by every request.
CurlHandle NewHandle(const KubeConfig& config, const std::string& url,
                     HeaderList& headers) {
  CurlHandle curl(curl_easy_init());
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYHOST, 2L);
  if (!config.ca_pem.empty())
    SetBlob(curl.get(), CURLOPT_CAINFO_BLOB, config.ca_pem);
  if (!config.client_cert_pem.empty()) {
    SetBlob(curl.get(), CURLOPT_SSLCERT_BLOB, config.client_cert_pem);
    curl_easy_setopt(curl.get(), CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (!config.client_key_pem.empty()) {
    SetBlob(curl.get(), CURLOPT_SSLKEY_BLOB, config.client_key_pem);
    curl_easy_setopt(curl.get(), CURLOPT_SSLKEYTYPE, "PEM");
  }
  headers.reset(
      curl_slist_append(headers.release(), "Accept: application/json"));
  if (!config.token.empty()) {
    headers.reset(curl_slist_append(
        headers.release(),
        absl::StrCat("Authorization: Bearer ", config.token).c_str()));
  }
  return curl;
}

absl::Status StatusFromHttp(long code, const std::string& method,
                            const std::string& path, const std::string& body) {
  std::string message = body;
  std::string reason;
  if (json parsed = json::parse(body, nullptr, false); parsed.is_object()) {
    message = parsed.value("message", body);
    reason = parsed.value("reason", "");
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

struct WatchState {
  std::string buffer;
  const std::function<bool(const json&)>* on_event;
  const std::function<bool()>* cancelled;
  bool stopped_by_callback = false;
  std::string error;
};

size_t OnWatchData(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<WatchState*>(user);
  state->buffer.append(data, size * count);
  size_t newline;
  while ((newline = state->buffer.find('\n')) != std::string::npos) {
    std::string line = state->buffer.substr(0, newline);
    state->buffer.erase(0, newline + 1);
    if (line.empty()) continue;
    json event = json::parse(line, nullptr, false);
    if (event.is_discarded()) {
      state->error = "watch: unreadable event: " + line.substr(0, 200);
      return 0;
    }
    if (!(*state->on_event)(event)) {
      state->stopped_by_callback = true;
      return 0;
    }
  }
  return size * count;
}

int OnWatchProgress(void* user, curl_off_t, curl_off_t, curl_off_t,
                    curl_off_t) {
  return (*static_cast<WatchState*>(user)->cancelled)() ? 1 : 0;
}

}  // namespace

KubeClient::KubeClient(KubeConfig config, absl::Duration timeout)
    : config_(std::move(config)), timeout_(timeout) {}

absl::StatusOr<json> KubeClient::Request(
    const std::string& method, const std::string& path, const std::string& body,
    const std::string& content_type) const {
  HeaderList headers;
  CurlHandle curl = NewHandle(config_, config_.server + path, headers);
  if (!content_type.empty()) {
    headers.reset(curl_slist_append(
        headers.release(),
        absl::StrCat("Content-Type: ", content_type).c_str()));
  }
  std::string response;
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE,
                     static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(timeout_)));
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, AppendToString);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response);
  CURLcode result = curl_easy_perform(curl.get());
  if (result != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat(
        method, " ", config_.server, path, ": ", curl_easy_strerror(result)));
  }
  long code = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &code);
  if (code < 200 || code >= 300)
    return StatusFromHttp(code, method, path, response);
  json parsed = json::parse(response, nullptr, false);
  if (parsed.is_discarded()) {
    return absl::InternalError(
        absl::StrCat(method, " ", path, ": response is not JSON"));
  }
  return parsed;
}

absl::StatusOr<json> KubeClient::Get(const std::string& path) const {
  return Request("GET", path, "", "");
}

absl::StatusOr<json> KubeClient::Post(const std::string& path,
                                      const json& body) const {
  return Request("POST", path, body.dump(), "application/json");
}

absl::StatusOr<json> KubeClient::Put(const std::string& path,
                                     const json& body) const {
  return Request("PUT", path, body.dump(), "application/json");
}

absl::StatusOr<json> KubeClient::JsonPatch(const std::string& path,
                                           const json& ops) const {
  return Request("PATCH", path, ops.dump(), "application/json-patch+json");
}

absl::StatusOr<json> KubeClient::Delete(const std::string& path) const {
  return Request("DELETE", path, "", "");
}

absl::Status KubeClient::Watch(const std::string& path,
                               const std::function<bool(const json&)>& on_event,
                               const std::function<bool()>& cancelled) const {
  HeaderList headers;
  CurlHandle curl = NewHandle(config_, config_.server + path, headers);
  WatchState state{"", &on_event, &cancelled, false, ""};
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, OnWatchData);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, OnWatchProgress);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, &state);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  CURLcode result = curl_easy_perform(curl.get());
  if (state.stopped_by_callback || cancelled()) return absl::OkStatus();
  if (!state.error.empty()) return absl::InternalError(state.error);
  if (result != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("watch ", path, ": ", curl_easy_strerror(result)));
  }
  long code = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &code);
  if (code < 200 || code >= 300)
    return StatusFromHttp(code, "WATCH", path, state.buffer);
  return absl::OkStatus();
}

}  // namespace smartcanary::kube
