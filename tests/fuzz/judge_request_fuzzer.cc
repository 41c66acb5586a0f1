// The analyzer's HTTP JSON API as a hostile caller might use it: the same
// bytes as an Argo web-provider body (/v1/judge) and as a Flagger webhook
// (/v1/flagger). Errors are fine; crashes, sanitizer reports and error
// bodies that do not serialize are findings. A request that parses is
// answered as the API answers it (with an Inconclusive verdict: no
// Prometheus is asked), so its fields must survive the answer's JSON.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/clock.h"
#include "analysis/comparative.h"
#include "analysis/http/judge_request.h"
#include "analysis/http/judge_response.h"
#include "tests/fuzz/fuzz_checks.h"

namespace {

using smartcanary::analysis::http::Caller;

void AnswerOrCheck(
    const absl::StatusOr<smartcanary::analysis::http::JudgeRequest>& request,
    Caller caller) {
  if (!request.ok()) {
    smartcanary::fuzz::CheckWritable(request.status());
    (void)smartcanary::analysis::http::ErrorBody(
        std::string(request.status().message()));
    return;
  }
  smartcanary::analysis::ComparativeVerdict verdict;
  const absl::Time end = absl::FromUnixSeconds(1700000000);
  const auto answer = smartcanary::analysis::http::Answer(
      *request, verdict, end - request->window, end, caller);
  (void)answer.body.dump(-1, ' ', false,
                         nlohmann::json::error_handler_t::replace);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  AnswerOrCheck(smartcanary::analysis::http::ParseJudgeRequest(body),
                Caller::kArgo);
  AnswerOrCheck(smartcanary::analysis::http::ParseFlaggerWebhook(body),
                Caller::kFlagger);
  return 0;
}
