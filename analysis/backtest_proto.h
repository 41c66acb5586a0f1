#ifndef SMARTCANARY_ANALYSIS_BACKTEST_PROTO_H_
#define SMARTCANARY_ANALYSIS_BACKTEST_PROTO_H_

#include <vector>

#include "absl/status/statusor.h"
#include "analysis/backtest.h"
#include "smartcanary/v1/analysis.pb.h"

// The Backtest RPC's messages to and from analysis/backtest.h. Pure.
namespace smartcanary::analysis {

// The judge's parameters with their defaults; the error names the field.
absl::StatusOr<BacktestParams> ParamsOf(const v1::BacktestRequest& request);

std::vector<TimedInterval> IntervalsOf(const v1::BacktestCounts& counts);

v1::MeasurementPhase PhaseOf(MeasurementPhase phase);

v1::BacktestResponse ResponseOf(const BacktestResult& result);

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_BACKTEST_PROTO_H_
