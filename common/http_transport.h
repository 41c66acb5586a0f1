#ifndef SMARTCANARY_COMMON_HTTP_TRANSPORT_H_
#define SMARTCANARY_COMMON_HTTP_TRANSPORT_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/retry.h"

namespace smartcanary {

inline constexpr char kSmartCanaryVersion[] = "0.1.0";

// "<program>/<version>", what every client sends as its User-Agent so that
// server logs and audit records name the caller.
std::string UserAgent(absl::string_view program);

// PEM blobs, not paths: kubeconfig `*-data` fields and files work the same.
struct TlsConfig {
  std::string ca_pem;  // empty: the system trust store
  std::string client_cert_pem;
  std::string client_key_pem;
};

struct HttpTransportOptions {
  TlsConfig tls;
  std::string user_agent;
  absl::Duration connect_timeout = absl::Seconds(10);
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  // The whole exchange; zero: no limit (watches, which the stall timeout
  // guards instead).
  absl::Duration timeout = absl::Seconds(30);
  // The whole call, retries and waits included: no attempt runs and no wait
  // ends past it, so a caller's time bound holds however often Send retries.
  absl::Time deadline = absl::InfiniteFuture();
  // A larger answer is an error naming the cap, never a larger allocation.
  // For Stream: the cap of a non-2xx answer's body.
  size_t max_response_bytes = size_t{16} << 20;
  // Less than one byte received in this long ends the exchange as dead;
  // zero: off.
  absl::Duration stall_timeout = absl::ZeroDuration();
  // Sending it twice does no harm: Send then also retries after 5xx answers
  // and connections lost mid-exchange, not only when the request was surely
  // not processed (429, 503 with Retry-After, no connection).
  bool idempotent = false;
  // Polled about once a second; true aborts the exchange (CANCELLED).
  std::function<bool()> cancelled;
  // "host:port:address[,address...]" (libcurl's CURLOPT_RESOLVE): connect
  // to `host` only at these addresses, which the caller has checked, and
  // through no proxy, so a second DNS answer cannot redirect the request.
  std::vector<std::string> pinned_addresses;
};

struct HttpResponse {
  int status = 0;
  std::string body;  // for Stream: only a non-2xx answer's
  std::optional<absl::Duration> retry_after;
};

// HTTP(S) over libcurl for the Kubernetes, Prometheus and Grafana clients.
// An HTTP error status is a response, not an error; errors are the
// transport's own: UNAVAILABLE (no connection, connection lost),
// DEADLINE_EXCEEDED (timeout or stall), RESOURCE_EXHAUSTED (body cap),
// CANCELLED. Thread-safe; idle connections are kept for reuse.
class HttpTransport {
 public:
  explicit HttpTransport(HttpTransportOptions options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // One exchange.
  absl::StatusOr<HttpResponse> Do(const HttpRequest& request) const;

  // Do, repeated as `policy` allows while the failure is worth retrying: 429,
  // 503 with Retry-After or no connection made, for any request; other 5xx
  // and lost connections only for an idempotent one. Honours Retry-After.
  // Returns the last attempt's result.
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request,
                                    const RetryPolicy& policy,
                                    const RetryClock& clock) const;

  // Hands a 2xx body to `on_data` as it arrives until the server ends it
  // (OK) or `on_data` returns false (OK). A non-2xx answer is returned with
  // its body and `on_data` is not called.
  absl::StatusOr<HttpResponse> Stream(
      const HttpRequest& request,
      const std::function<bool(absl::string_view chunk)>& on_data) const;

  const HttpTransportOptions& options() const { return options_; }

 private:
  struct Attempt;
  Attempt Exchange(const HttpRequest& request,
                   const std::function<bool(absl::string_view)>* on_data) const;
  // Exchange with the timeout cut to what is left before request.deadline.
  Attempt BeforeDeadline(const HttpRequest& request, absl::Time now) const;
  void* TakeHandle() const;
  void ReturnHandle(void* handle) const;

  HttpTransportOptions options_;
  mutable absl::Mutex mu_;
  mutable std::vector<void*> idle_ ABSL_GUARDED_BY(mu_);
};

// A Retry-After header value: delay-seconds or an HTTP date (RFC 9110).
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value,
                                              absl::Time now);

// "64 KiB", "16 MiB", "100 bytes": caps in error messages.
std::string FormatBytes(size_t bytes);

}  // namespace smartcanary

#endif  // SMARTCANARY_COMMON_HTTP_TRANSPORT_H_
