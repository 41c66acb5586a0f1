#ifndef SMARTCANARY_CLI_BACKTEST_CSV_H_
#define SMARTCANARY_CLI_BACKTEST_CSV_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "smartcanary/v1/analysis.pb.h"

namespace smartcanary::cli {

// `canaryctl backtest --csv`: one interval a line,
//   interval_end_seconds,canary_events,canary_requests,baseline_events,
//   baseline_requests,configured_canary_share
// An optional header line naming the columns, blank lines and lines
// starting with '#' are skipped. The error names the line and the column.
// Pure.
absl::StatusOr<v1::BacktestCounts> ParseBacktestCsv(absl::string_view text);

}  // namespace smartcanary::cli

#endif  // SMARTCANARY_CLI_BACKTEST_CSV_H_
