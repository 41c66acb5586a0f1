// Prometheus' answers as a hostile or broken server might send them: the
// instant and range parsers and the error-answer path on the same bytes.
// Errors are fine; crashes, sanitizer reports, and messages that cannot go
// into a measurement (invalid UTF-8, control characters) are findings.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "analysis/prometheus_response.h"
#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  using smartcanary::fuzz::CheckWritable;
  if (auto samples = smartcanary::analysis::ParseQueryResponse(body);
      !samples.ok()) {
    CheckWritable(samples.status());
  }
  if (auto series = smartcanary::analysis::ParseRangeResponse(body);
      !series.ok()) {
    CheckWritable(series.status());
  }
  for (int code : {400, 500, 503}) {
    CheckWritable(
        smartcanary::analysis::ErrorAnswerStatus(code, body, "prometheus"));
  }
  // A snippet is quoted into logs and terminals: printable ASCII only.
  for (char c : smartcanary::analysis::Snippet(body)) {
    if (c < 0x20 || c > 0x7e) std::abort();
  }
  return 0;
}
