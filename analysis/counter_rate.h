#ifndef SMARTCANARY_ANALYSIS_COUNTER_RATE_H_
#define SMARTCANARY_ANALYSIS_COUNTER_RATE_H_

#include <optional>

#include "analysis/comparative.h"

namespace smartcanary::analysis {

// A cumulative counter's average increase per second between its first and
// last sample (a reset restarts at zero, as in ToIntervals); nullopt with
// fewer than two samples. Pure.
std::optional<double> CounterRate(const CounterSamples& samples);

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_COUNTER_RATE_H_
