#ifndef SMARTCANARY_ANALYSIS_PROMETHEUS_CLIENT_H_
#define SMARTCANARY_ANALYSIS_PROMETHEUS_CLIENT_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "analysis/address_policy.h"
#include "analysis/credential_path.h"
#include "analysis/prometheus_response.h"
#include "common/http_transport.h"

namespace smartcanary::analysis {

struct PrometheusOptions {
  std::string address;  // http(s)://host:port[/prefix]
  absl::Duration timeout = absl::Seconds(30);
  std::map<std::string, std::string> headers;
  // Files, under credentials_dir; or values canaryd read from Secrets.
  std::string bearer_token_file;
  std::string bearer_token;
  std::string basic_auth_user;
  std::string basic_auth_password_file;
  std::string basic_auth_password;
  std::string ca_file;
  // How errors name the provider: "provider.prometheus" or, for a
  // comparative metric, "provider.comparative.prometheus".
  std::string field = "provider.prometheus";
  // Where queries may go and where credential files may lie.
  AddressPolicy address_policy = AddressPolicy::Default();
  std::string credentials_dir = kDefaultCredentialsDir;
  size_t max_response_bytes = size_t{32} << 20;
  std::string user_agent = UserAgent("canary-analyzer");
  // Polled about once a second: true abandons the query (the caller went
  // away, or the analyzer is stopping).
  std::function<bool()> cancelled;
  // Told of every API call once it has its outcome: its path
  // (/api/v1/query or /api/v1/query_range), how long it took with its
  // retries, and the status (the analyzer's /metrics counts these).
  std::function<void(const std::string& path, absl::Duration took,
                     const absl::Status& outcome)>
      observe;
};

// Prometheus' HTTP API over HttpTransport. Queries are read-only, so 429,
// 5xx and lost connections are retried (honouring Retry-After) while the
// timeout's budget lasts. Every query first passes the address policy: the
// host is resolved once, each of its addresses checked, and the connection
// pinned to them (no DNS rebinding, no proxy, no redirects). Errors: an
// address or credential file the policy refuses is PERMISSION_DENIED naming
// the field; a query Prometheus rejects (syntax, bad data) INVALID_ARGUMENT
// carrying Prometheus' own message, as is an answer that is not its API's
// JSON; an unreachable server UNAVAILABLE with the cause (a non-200 answer
// with its code and a sanitized snippet); a slow one DEADLINE_EXCEEDED; an
// answer over max_response_bytes RESOURCE_EXHAUSTED.
class PrometheusClient {
 public:
  explicit PrometheusClient(PrometheusOptions options);

  // /api/v1/query. A scalar result is one unlabelled sample; an empty
  // vector is an empty list (no data, not an error).
  absl::StatusOr<std::vector<Sample>> Query(
      const std::string& promql,
      std::optional<absl::Time> at = std::nullopt) const;
  // /api/v1/query_range.
  absl::StatusOr<std::vector<Series>> QueryRange(const std::string& promql,
                                                 absl::Time start,
                                                 absl::Time end,
                                                 absl::Duration step) const;

 private:
  // Fetch, reported to options_.observe.
  absl::StatusOr<std::string> Get(
      const std::string& path,
      const std::vector<std::pair<std::string, std::string>>& params) const;
  absl::StatusOr<std::string> Fetch(
      const std::string& path,
      const std::vector<std::pair<std::string, std::string>>& params) const;
  // The Authorization header the options ask for, if any.
  absl::StatusOr<std::optional<std::string>> Authorization() const;

  PrometheusOptions options_;
  absl::Status setup_;  // an unreadable or refused ca_file
  std::unique_ptr<HttpTransport> transport_;
};

// Checks what can be checked of a provider without I/O: the address's form
// and host against the policy, credential paths against the directory.
absl::Status CheckProviderStatically(const PrometheusOptions& options);

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_PROMETHEUS_CLIENT_H_
