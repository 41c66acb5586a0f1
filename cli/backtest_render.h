#ifndef SMARTCANARY_CLI_BACKTEST_RENDER_H_
#define SMARTCANARY_CLI_BACKTEST_RENDER_H_

#include <string>

#include "nlohmann/json.hpp"
#include "smartcanary/v1/analysis.pb.h"

namespace smartcanary::cli {

// One line per decision (interval, end, verdict, e-values, ratio interval),
// then the summary line. Control characters in messages are escaped.
std::string RenderBacktest(const v1::BacktestResponse& response);
// `-o json`: every decision with its message, and the summary.
nlohmann::json BacktestToJson(const v1::BacktestResponse& response);

}  // namespace smartcanary::cli

#endif  // SMARTCANARY_CLI_BACKTEST_RENDER_H_
