#ifndef SMARTCANARY_ANALYSIS_HTTP_JUDGE_RESPONSE_H_
#define SMARTCANARY_ANALYSIS_HTTP_JUDGE_RESPONSE_H_

#include <string>

#include "absl/time/time.h"
#include "analysis/comparative.h"
#include "analysis/http/judge_request.h"
#include "nlohmann/json.hpp"

// The HTTP API's answers. Pure: a verdict in, a status code and JSON out.
namespace smartcanary::analysis::http {

// Argo's web provider marks any non-2xx answer an Error measurement, so
// /v1/judge answers every verdict with 200 and lets successCondition read
// it; Flagger's webhooks know only 2xx (pass) and the rest (fail), so
// /v1/flagger puts the verdict in the status.
enum class Caller { kArgo, kFlagger };

struct JudgeAnswer {
  int code = 200;
  nlohmann::json body;
  std::string verdict;  // Pass, Fail, Inconclusive or Error (for metrics)
};

// {verdict, phase, message, notWorse, window, evidence, assumptions}.
// Codes: Pass 200; Fail 200 (Argo) or 412 (Flagger); Inconclusive 200
// (Argo) or 503 (Flagger: hold, ask again; no data or a routing mismatch);
// Error (Prometheus unreachable or failing) 502 for both.
JudgeAnswer Answer(const JudgeRequest& request,
                   const ComparativeVerdict& verdict, absl::Time start,
                   absl::Time end, Caller caller);

// {"error": message} with the code; the message is made valid UTF-8.
std::string ErrorBody(const std::string& message);

}  // namespace smartcanary::analysis::http

#endif  // SMARTCANARY_ANALYSIS_HTTP_JUDGE_RESPONSE_H_
