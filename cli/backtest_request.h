#ifndef SMARTCANARY_CLI_BACKTEST_REQUEST_H_
#define SMARTCANARY_CLI_BACKTEST_REQUEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/args.h"
#include "smartcanary/v1/analysis.pb.h"

namespace smartcanary::cli {

// `canaryctl backtest`'s valued flags (args.h keeps them by name).
inline constexpr const char* kBacktestFlags[] = {"--analyzer",
                                                 "--prometheus",
                                                 "--service",
                                                 "--canary",
                                                 "--baseline",
                                                 "--event",
                                                 "--latency-objective-ms",
                                                 "--canary-events",
                                                 "--canary-requests",
                                                 "--baseline-events",
                                                 "--baseline-requests",
                                                 "--start",
                                                 "--end",
                                                 "--step",
                                                 "--weights",
                                                 "--alpha",
                                                 "--margin",
                                                 "--max-burst",
                                                 "--judge-every",
                                                 "--planned-pauses"};

// The request from the flags: with --csv the counts in `csv_text`
// (standard input), else a Prometheus range ending at --end or `now`. The
// error names the flag, or the CSV line and column. Pure.
absl::StatusOr<v1::BacktestRequest> BuildBacktestRequest(
    const Args& args, const std::string& csv_text, absl::Time now);

}  // namespace smartcanary::cli

#endif  // SMARTCANARY_CLI_BACKTEST_REQUEST_H_
