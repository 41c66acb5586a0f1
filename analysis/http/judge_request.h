#ifndef SMARTCANARY_ANALYSIS_HTTP_JUDGE_REQUEST_H_
#define SMARTCANARY_ANALYSIS_HTTP_JUDGE_REQUEST_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "smartcanary/v1/analysis.pb.h"

// What the HTTP API is asked to judge, read from a request body. Pure: bytes
// in, a comparative metric or an error naming the field out.
namespace smartcanary::analysis::http {

// The longest window one request may judge: the range queries are cut into
// tiers (history_tiers.h), but a caller must not make one call scan months.
inline constexpr absl::Duration kMaxWindow = absl::Hours(24 * 14);

struct JudgeRequest {
  // One comparative metric, parsed by the same code as a template's
  // provider.comparative (its fields, defaults and errors).
  v1::Metric metric;
  absl::Duration window;  // judged: [now - window, now]
  // The canary's traffic share in percent over the window; given, the
  // routing check and liveness run, as they do for canaryd.
  std::optional<int> canary_weight;
  std::string caller;  // Flagger's namespace/name, for logs; else empty
  std::string phase;   // Flagger's canary phase; else empty
};

// POST /v1/judge (Argo Rollouts' web provider):
//   {"comparative": {<a template's provider.comparative>},
//    "window": "10m", "canaryWeight": 20}
absl::StatusOr<JudgeRequest> ParseJudgeRequest(std::string_view body);

// POST /v1/flagger: Flagger's webhook payload
//   {"name", "namespace", "phase", "checksum", "metadata": {...}}
// whose metadata (strings only, as Flagger sends) carries the judge's
// settings flat: prometheus, service, canary and baseline ("k=v,k2=v2"),
// event, latencyObjectiveMs, or canaryEvents, canaryRequests,
// baselineEvents, baselineRequests; alpha, margin, maxBurst, resolution,
// window, canaryWeight.
absl::StatusOr<JudgeRequest> ParseFlaggerWebhook(std::string_view body);

}  // namespace smartcanary::analysis::http

#endif  // SMARTCANARY_ANALYSIS_HTTP_JUDGE_REQUEST_H_
