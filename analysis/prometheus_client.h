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
#include "common/http_transport.h"

namespace smartcanary::analysis {

struct PrometheusOptions {
  std::string address;  // http(s)://host:port[/prefix]
  absl::Duration timeout = absl::Seconds(30);
  std::map<std::string, std::string> headers;
  std::string bearer_token_file;
  std::string basic_auth_user;
  std::string basic_auth_password_file;
  std::string ca_file;
  size_t max_response_bytes = size_t{32} << 20;
  std::string user_agent = UserAgent("canary-analyzer");
  // Polled about once a second: true abandons the query (the caller went
  // away, or the analyzer is stopping).
  std::function<bool()> cancelled;
};

struct Sample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Series {
  std::map<std::string, std::string> labels;
  std::vector<std::pair<absl::Time, double>> points;
};

// Prometheus' HTTP API over HttpTransport. Queries are read-only, so 429,
// 5xx and lost connections are retried (honouring Retry-After) while the
// timeout's budget lasts. Errors: a query Prometheus rejects (syntax, bad
// data) is INVALID_ARGUMENT carrying Prometheus' own message; an unreachable
// server UNAVAILABLE with the cause; a slow one DEADLINE_EXCEEDED; an answer
// over max_response_bytes RESOURCE_EXHAUSTED.
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
  absl::StatusOr<std::string> Get(
      const std::string& path,
      const std::vector<std::pair<std::string, std::string>>& params) const;

  PrometheusOptions options_;
  absl::Status setup_;  // an unreadable ca_file, reported by every query
  std::unique_ptr<HttpTransport> transport_;
};

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_PROMETHEUS_CLIENT_H_
