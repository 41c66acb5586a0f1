#include "common/http_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace smartcanary {
namespace {

// More idle handles than this are closed: they only hold connections.
constexpr size_t kMaxIdleHandles = 8;

struct ExchangeState {
  const HttpRequest* request;
  const std::function<bool(absl::string_view)>* on_data;  // null: buffer
  CURL* curl;
  HttpResponse response;
  std::string retry_after;
  bool over_cap = false;
  bool stopped = false;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<ExchangeState*>(user);
  const absl::string_view line(data, size * count);
  constexpr absl::string_view kRetryAfter = "retry-after:";
  if (absl::StartsWith(line, "HTTP/")) {
    state->retry_after.clear();  // a new response (after 100 or a redirect)
  } else if (absl::StartsWithIgnoreCase(line, kRetryAfter)) {
    state->retry_after = std::string(
        absl::StripAsciiWhitespace(line.substr(kRetryAfter.size())));
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<ExchangeState*>(user);
  const size_t length = size * count;
  if (state->on_data != nullptr) {
    long code = 0;
    curl_easy_getinfo(state->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code < 300) {
      if ((*state->on_data)(absl::string_view(data, length))) return length;
      state->stopped = true;
      return 0;
    }
  }
  if (state->response.body.size() + length >
      state->request->max_response_bytes) {
    state->over_cap = true;
    return 0;
  }
  state->response.body.append(data, length);
  return length;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* state = static_cast<ExchangeState*>(user);
  return state->request->cancelled() ? 1 : 0;
}

void SetBlob(CURL* curl, CURLoption option, const std::string& pem) {
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(curl, option, &blob);
}

long Millis(absl::Duration d) {
  return static_cast<long>(absl::ToInt64Milliseconds(d));
}

// Whether the failure of an attempt is worth another one.
RetryVerdict VerdictOn(const absl::StatusOr<HttpResponse>& result, bool sent,
                       bool idempotent) {
  if (!result.ok()) {
    const absl::StatusCode code = result.status().code();
    const bool transient = code == absl::StatusCode::kUnavailable ||
                           code == absl::StatusCode::kDeadlineExceeded;
    return {transient && (!sent || idempotent), std::nullopt};
  }
  const int status = result->status;
  // The server declined before doing anything: safe for any request.
  const bool declined =
      status == 429 || (status == 503 && result->retry_after.has_value());
  const bool server_error = status >= 500 && status != 501 && status != 505;
  return {declined || (server_error && idempotent), result->retry_after};
}

}  // namespace

struct HttpTransport::Attempt {
  absl::StatusOr<HttpResponse> result;
  bool sent = true;  // false: the server surely never saw the request
};

std::string UserAgent(absl::string_view program) {
  return absl::StrCat(program, "/", kSmartCanaryVersion);
}

std::string FormatBytes(size_t bytes) {
  constexpr size_t kKiB = 1024, kMiB = kKiB * 1024;
  if (bytes >= kMiB && bytes % kMiB == 0)
    return absl::StrCat(bytes / kMiB, " MiB");
  if (bytes >= kKiB && bytes % kKiB == 0)
    return absl::StrCat(bytes / kKiB, " KiB");
  return absl::StrCat(bytes, " bytes");
}

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value,
                                              absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  int64_t seconds = 0;
  if (absl::SimpleAtoi(value, &seconds))
    return seconds < 0 ? std::nullopt
                       : std::optional<absl::Duration>(absl::Seconds(seconds));
  absl::Time at;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", value, absl::UTCTimeZone(),
                       &at, nullptr)) {
    return std::nullopt;
  }
  return std::max(at - now, absl::ZeroDuration());
}

HttpTransport::HttpTransport(HttpTransportOptions options)
    : options_(std::move(options)) {
  static std::once_flag global_init;
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpTransport::~HttpTransport() {
  absl::MutexLock lock(&mu_);
  for (void* handle : idle_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

void* HttpTransport::TakeHandle() const {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      void* handle = idle_.back();
      idle_.pop_back();
      curl_easy_reset(static_cast<CURL*>(handle));  // keeps its connections
      return handle;
    }
  }
  return curl_easy_init();
}

void HttpTransport::ReturnHandle(void* handle) const {
  {
    absl::MutexLock lock(&mu_);
    if (idle_.size() < kMaxIdleHandles) {
      idle_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

HttpTransport::Attempt HttpTransport::Exchange(
    const HttpRequest& request,
    const std::function<bool(absl::string_view)>* on_data) const {
  // A stream holds its connection for long: it gets a handle of its own.
  CURL* curl =
      static_cast<CURL*>(on_data != nullptr ? curl_easy_init() : TakeHandle());
  if (curl == nullptr)
    return {absl::InternalError("libcurl: no handle"), false};
  ExchangeState state{&request, on_data, curl, {}, "", false, false};
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  // HTTP(S) only, and redirects never followed: a server cannot send the
  // request (and its credentials) elsewhere.
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_slist* pinned = nullptr;
  for (const std::string& entry : request.pinned_addresses)
    pinned = curl_slist_append(pinned, entry.c_str());
  if (pinned != nullptr) {
    curl_easy_setopt(curl, CURLOPT_RESOLVE, pinned);
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
  }
  const TlsConfig& tls = options_.tls;
  if (!tls.ca_pem.empty()) SetBlob(curl, CURLOPT_CAINFO_BLOB, tls.ca_pem);
  if (!tls.client_cert_pem.empty()) {
    SetBlob(curl, CURLOPT_SSLCERT_BLOB, tls.client_cert_pem);
    curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (!tls.client_key_pem.empty()) {
    SetBlob(curl, CURLOPT_SSLKEY_BLOB, tls.client_key_pem);
    curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
  }
  if (!options_.user_agent.empty())
    curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  // A peer that vanished (host down, network cut) is noticed by the kernel
  // even on a connection that is quiet by design.
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 30L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 10L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   Millis(options_.connect_timeout));
  if (request.timeout > absl::ZeroDuration())
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, Millis(request.timeout));
  if (request.stall_timeout > absl::ZeroDuration()) {
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(
        curl, CURLOPT_LOW_SPEED_TIME,
        std::max(1L, static_cast<long>(std::ceil(
                         absl::ToDoubleSeconds(request.stall_timeout)))));
  }
  if (on_data == nullptr) {
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(request.max_response_bytes));
  }
  curl_slist* headers = nullptr;
  for (const std::string& header : request.headers)
    headers = curl_slist_append(headers, header.c_str());
  // No "Expect: 100-continue" round trip before larger bodies.
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (!request.body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &state);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &state);
  if (request.cancelled) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &state);
  }
  const CURLcode result = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_slist_free_all(pinned);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_off_t connect_time = 0;
  curl_easy_getinfo(curl, CURLINFO_CONNECT_TIME_T, &connect_time);
  if (on_data != nullptr) {
    curl_easy_cleanup(curl);
  } else {
    ReturnHandle(curl);
  }

  const std::string where = absl::StrCat(request.method, " ", request.url);
  const std::string cause =
      error[0] != '\0' ? error : curl_easy_strerror(result);
  if (state.over_cap || result == CURLE_FILESIZE_EXCEEDED) {
    return {absl::ResourceExhaustedError(
        absl::StrCat(where, ": the response exceeds the ",
                     FormatBytes(request.max_response_bytes), " cap"))};
  }
  if (result == CURLE_ABORTED_BY_CALLBACK)
    return {absl::CancelledError(absl::StrCat(where, ": cancelled"))};
  if (result == CURLE_OPERATION_TIMEDOUT) {
    return {absl::DeadlineExceededError(absl::StrCat(where, ": ", cause)),
            connect_time > 0};
  }
  if (result != CURLE_OK && !(result == CURLE_WRITE_ERROR && state.stopped)) {
    const bool sent = result != CURLE_COULDNT_RESOLVE_HOST &&
                      result != CURLE_COULDNT_CONNECT &&
                      result != CURLE_SSL_CONNECT_ERROR;
    return {absl::UnavailableError(absl::StrCat(where, ": ", cause)), sent};
  }
  state.response.status = static_cast<int>(code);
  if (!state.retry_after.empty())
    state.response.retry_after =
        ParseRetryAfter(state.retry_after, absl::Now());
  return {std::move(state.response)};
}

HttpTransport::Attempt HttpTransport::BeforeDeadline(const HttpRequest& request,
                                                     absl::Time now) const {
  if (request.deadline == absl::InfiniteFuture())
    return Exchange(request, nullptr);
  const absl::Duration left = request.deadline - now;
  if (left <= absl::ZeroDuration()) {
    return {
        absl::DeadlineExceededError(absl::StrCat(
            request.method, " ", request.url, ": no time left to try again")),
        true};
  }
  HttpRequest bounded = request;
  bounded.timeout = request.timeout > absl::ZeroDuration()
                        ? std::min(request.timeout, left)
                        : left;
  return Exchange(bounded, nullptr);
}

absl::StatusOr<HttpResponse> HttpTransport::Do(
    const HttpRequest& request) const {
  return BeforeDeadline(request, absl::Now()).result;
}

absl::StatusOr<HttpResponse> HttpTransport::Send(
    const HttpRequest& request, const RetryPolicy& policy,
    const RetryClock& clock) const {
  RetryPolicy bounded = policy;
  if (request.deadline != absl::InfiniteFuture()) {
    bounded.max_total =
        std::min(policy.max_total, request.deadline - clock.now());
  }
  return RetryLoop<Attempt>(
             bounded, clock,
             [&] { return BeforeDeadline(request, clock.now()); },
             [&](const Attempt& attempt) {
               return VerdictOn(attempt.result, attempt.sent,
                                request.idempotent);
             })
      .result;
}

absl::StatusOr<HttpResponse> HttpTransport::Stream(
    const HttpRequest& request,
    const std::function<bool(absl::string_view chunk)>& on_data) const {
  return Exchange(request, &on_data).result;
}

}  // namespace smartcanary
