#ifndef SMARTCANARY_CONTROLLER_ANALYSIS_ANALYSIS_SPEC_H_
#define SMARTCANARY_CONTROLLER_ANALYSIS_ANALYSIS_SPEC_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "smartcanary/v1/analysis.pb.h"

// Analysis in Argo Rollouts' vocabulary: templates of metrics, referenced by
// rollout steps (`analysis: {templates, args}`) and by a background analysis
// (`spec.analysis: {templates, args, startingStep}`).
namespace smartcanary {

struct TemplateRef {
  std::string name;
  bool cluster_scope = false;
  bool operator==(const TemplateRef&) const = default;
};

struct AnalysisArg {
  std::string name;
  std::optional<std::string> value;  // a template arg without value is required
  bool operator==(const AnalysisArg&) const = default;
};

// What an Error verdict of the analysis (consecutiveErrorLimit exceeded:
// the analyzer or Prometheus down) does to the rollout.
enum class OnError {
  kRollback,  // as Argo: roll back at once (the default)
  kPause,     // hold traffic, measure on, resume once a measurement succeeds
};
const char* OnErrorName(OnError on_error);

struct AnalysisRef {
  std::vector<TemplateRef> templates;
  std::vector<AnalysisArg> args;
  OnError on_error = OnError::kRollback;
  bool operator==(const AnalysisRef&) const = default;
};

struct BackgroundAnalysis {
  AnalysisRef analysis;
  int starting_step = 0;
  bool operator==(const BackgroundAnalysis&) const = default;
};

// What canaryd assumes of a Prometheus whose provider does not say
// (provider.prometheus.scrapeInterval): common cluster setups scrape every
// 15-30 s, and assuming the longer errs toward waiting for data.
inline constexpr absl::Duration kDefaultScrapeInterval = absl::Seconds(30);

// One metric of a template, with Argo's measurement semantics.
struct MetricSpec {
  std::string name;
  absl::Duration interval = absl::ZeroDuration();  // zero: measure once
  int count = 0;                                   // zero: unset
  absl::Duration initial_delay = absl::ZeroDuration();
  int failure_limit = 0;
  int inconclusive_limit = 0;
  int consecutive_error_limit = 4;
  v1::Metric query;  // provider and conditions, as sent to the analyzer
  // provider.prometheus.scrapeInterval: how often that Prometheus scrapes.
  std::optional<absl::Duration> scrape_interval;
  // Named by the template's spec.dryRun (Argo's shape): measured, shown and
  // annotated, but its verdict never fails, holds or pauses the rollout.
  bool dry_run = false;

  // How many measurements make the metric complete; 0 means it runs until
  // it fails or the analysis ends (an interval and no count).
  int planned_measurements() const;
  absl::Duration ScrapeInterval() const {
    return scrape_interval.value_or(kDefaultScrapeInterval);
  }
  // How long after the canary first takes traffic its series can still be
  // missing from the query's answer: the query's longest range selector
  // (the window rate() needs filled; a comparative metric's resolution)
  // plus one scrape interval. No data within it is pending, not a verdict.
  absl::Duration WarmUp() const;
};

struct AnalysisTemplate {
  std::vector<AnalysisArg> args;
  std::vector<MetricSpec> metrics;
};

// `{templates: [...], args: [...]}` at `path` (e.g. "spec.steps[2].analysis").
absl::StatusOr<AnalysisRef> ParseAnalysisRef(const nlohmann::json& value,
                                             const std::string& path);
nlohmann::json AnalysisRefToJson(const AnalysisRef& ref);

// A CanaryAnalysisTemplate's or ClusterCanaryAnalysisTemplate's spec, in the
// shape of Argo's (Cluster)AnalysisTemplate. Errors name `where` and the field.
absl::StatusOr<AnalysisTemplate> ParseAnalysisTemplate(
    const nlohmann::json& spec, const std::string& where);

// Template args overlaid with the rollout's; INVALID_ARGUMENT naming any
// required arg left without a value.
absl::StatusOr<std::map<std::string, std::string>> ResolveArgs(
    const std::vector<AnalysisArg>& template_args,
    const std::vector<AnalysisArg>& given, const std::string& where);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ANALYSIS_ANALYSIS_SPEC_H_
