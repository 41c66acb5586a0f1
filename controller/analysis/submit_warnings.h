#ifndef SMARTCANARY_CONTROLLER_ANALYSIS_SUBMIT_WARNINGS_H_
#define SMARTCANARY_CONTROLLER_ANALYSIS_SUBMIT_WARNINGS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/analysis/analysis_spec.h"
#include "controller/rollout_spec.h"

// Advice given when a rollout is submitted, about analyses that are valid
// but would likely hold or mislead it: they never refuse a rollout. Pure.
namespace smartcanary {

// Warnings about one analysis's metrics, each starting with `where` (the
// reference's field path, e.g. "spec.analysis") and the metric's name:
// - a threshold query whose numerator is filtered more narrowly than its
//   denominator (sum(rate(errors{...}[..])) / sum(rate(requests{...}[..]))):
//   with no matching requests (no errors) it is an empty vector, i.e. no
//   data, never 0;
// - a range selector holding fewer than two scrapes: rate() over it has
//   nothing to say;
// - background only: an initialDelay shorter than one scrape interval, and
//   inconclusiveLimit 0.
std::vector<std::string> AnalysisWarnings(
    const std::string& where, const std::vector<MetricSpec>& metrics,
    bool background);

// The metrics an analysis reference stands for (the caller reads templates).
using ResolveMetrics = std::function<absl::StatusOr<std::vector<MetricSpec>>(
    const AnalysisRef& ref, const std::string& where)>;

// Every analysis of the spec, background first; references that do not
// resolve are skipped (validation reports them).
std::vector<std::string> SubmitWarnings(const RolloutSpec& spec,
                                        const ResolveMetrics& resolve);

// Appends the warnings `to` does not hold yet.
void AddWarnings(std::vector<std::string>& to,
                 const std::vector<std::string>& warnings);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ANALYSIS_SUBMIT_WARNINGS_H_
