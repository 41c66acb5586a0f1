#ifndef SMARTCANARY_ANALYSIS_PROMETHEUS_RESPONSE_H_
#define SMARTCANARY_ANALYSIS_PROMETHEUS_RESPONSE_H_

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

// Prometheus' HTTP API answers as pure functions of the body, so that a
// hostile or broken server can only ever produce an error (and a fuzzer can
// call them directly). Nothing here asserts, throws or reads past the input.
namespace smartcanary::analysis {

struct Sample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Series {
  std::map<std::string, std::string> labels;
  std::vector<std::pair<absl::Time, double>> points;
};

// Deeper JSON than this is refused before it is parsed: Prometheus' own
// answers nest five levels, and a parser's recursion must stay bounded.
inline constexpr int kMaxResponseDepth = 32;

// The nesting depth of JSON `body`, counted without parsing (brackets inside
// strings do not count): nlohmann's copies and destructors recurse, so depth
// is checked before a body is parsed.
int NestingDepth(absl::string_view body);

// The longest part of an unexpected answer quoted in an error message.
inline constexpr size_t kMaxSnippetBytes = 200;

// An /api/v1/query answer. A scalar is one unlabelled sample; an empty
// vector no samples. A missing or wrong-typed field is INVALID_ARGUMENT
// naming its path in the answer (e.g. data.result[2].value).
absl::StatusOr<std::vector<Sample>> ParseQueryResponse(absl::string_view body);

// An /api/v1/query_range answer (a matrix).
absl::StatusOr<std::vector<Series>> ParseRangeResponse(absl::string_view body);

// A non-200 answer as an error: Prometheus' own {"status":"error"} message
// (INVALID_ARGUMENT for 400/422, a rejected query), else UNAVAILABLE naming
// `where` (the server), the status code and a sanitized snippet of the body.
absl::Status ErrorAnswerStatus(int code, absl::string_view body,
                               absl::string_view where);

// At most `max_bytes` of `text` as printable ASCII: every other byte
// (control characters, escapes, UTF-8, binary) becomes '?', so a body can be
// quoted in a status message, a log line or a terminal safely.
std::string Snippet(absl::string_view text,
                    size_t max_bytes = kMaxSnippetBytes);

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_PROMETHEUS_RESPONSE_H_
