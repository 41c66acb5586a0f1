#ifndef SMARTCANARY_CONTROLLER_ANALYSIS_PROMQL_TEXT_H_
#define SMARTCANARY_CONTROLLER_ANALYSIS_PROMQL_TEXT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

// Just enough reading of PromQL text to advise about a query before it runs
// and to size the no-data warm-up: range selectors and the parts of a ratio.
// Not a parser: string literals are skipped, anything unreadable is ignored.
namespace smartcanary {

// The ranges of every range selector and subquery (`[5m]`, `[1h:30s]` gives
// 1h); ranges written with {{args}} or otherwise unreadable are left out.
std::vector<absl::Duration> RangeSelectors(absl::string_view promql);

// A Prometheus duration: "90s", "1m30s", "2h", "1d", "1w", "1y", "250ms".
bool ParsePromDuration(absl::string_view text, absl::Duration* out);

struct Ratio {
  std::string numerator;
  std::string denominator;
};
// Splits at the first `/` outside brackets and strings; false if none.
bool SplitRatio(absl::string_view promql, Ratio* out);

// The label matchers inside the `{...}` selectors of `promql`, each trimmed,
// e.g. {`reporter="destination"`, `grpc_response_status!="0"`}.
std::vector<std::string> LabelMatchers(absl::string_view promql);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ANALYSIS_PROMQL_TEXT_H_
