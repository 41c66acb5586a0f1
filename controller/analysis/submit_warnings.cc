#include "controller/analysis/submit_warnings.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "controller/analysis/promql_text.h"

namespace smartcanary {
namespace {

std::string ScrapeText(const MetricSpec& metric) {
  return metric.scrape_interval
             ? absl::FormatDuration(*metric.scrape_interval)
             : absl::StrCat(absl::FormatDuration(kDefaultScrapeInterval),
                            ", the default; set provider.prometheus."
                            "scrapeInterval to your Prometheus' own");
}

// sum(rate(errors{code!="0"}[1m])) / sum(rate(requests[1m])): the numerator
// selects fewer series than the denominator and has nothing to fall back to.
bool NumeratorCanVanish(const std::string& query) {
  Ratio ratio;
  if (!SplitRatio(query, &ratio)) return false;
  if (absl::StrContains(ratio.numerator, "vector(")) return false;
  const bool counted = absl::StrContains(ratio.numerator, "rate(") ||
                       absl::StrContains(ratio.numerator, "increase(");
  if (!counted) return false;
  const std::vector<std::string> denominator = LabelMatchers(ratio.denominator);
  for (const std::string& matcher : LabelMatchers(ratio.numerator)) {
    if (std::find(denominator.begin(), denominator.end(), matcher) ==
        denominator.end())
      return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> AnalysisWarnings(
    const std::string& where, const std::vector<MetricSpec>& metrics,
    bool background) {
  std::vector<std::string> out;
  for (const MetricSpec& metric : metrics) {
    const std::string named =
        absl::StrCat(where, ": metric \"", metric.name, "\": ");
    if (!metric.query.has_comparative()) {
      const std::string& query = metric.query.prometheus().query();
      if (NumeratorCanVanish(query)) {
        out.push_back(absl::StrCat(
            named,
            "the query's numerator filters on labels its denominator does "
            "not, so when no request matches (e.g. no errors at all) it is an "
            "empty vector, not 0, and the measurement is no data "
            "(Inconclusive, never a pass): append `or vector(0)` to the "
            "numerator, or use the comparative provider"));
      }
      for (absl::Duration range : RangeSelectors(query)) {
        if (range < 2 * metric.ScrapeInterval()) {
          out.push_back(absl::StrCat(
              named, "the range [", absl::FormatDuration(range),
              "] holds fewer than two scrapes at a scrape interval of ",
              ScrapeText(metric),
              ", so rate() over it returns no data: use a range of at least "
              "two scrape intervals"));
          break;
        }
      }
    }
    if (!background) continue;
    if (metric.initial_delay < metric.ScrapeInterval()) {
      out.push_back(absl::StrCat(
          named, "initialDelay ", absl::FormatDuration(metric.initial_delay),
          " is shorter than one scrape interval (", ScrapeText(metric),
          "): the first measurements cannot see the canary yet; they show "
          "as Pending for the warm-up (",
          absl::FormatDuration(metric.WarmUp()),
          ") and count toward no "
          "limit"));
    }
    if (metric.inconclusive_limit == 0) {
      out.push_back(absl::StrCat(
          named,
          "inconclusiveLimit 0: a single no-data or inconclusive measurement "
          "after the warm-up holds the rollout (Paused, still measuring) "
          "until a person resumes or aborts it; a small limit such as 3 "
          "rides out gaps in the data"));
    }
  }
  return out;
}

std::vector<std::string> SubmitWarnings(const RolloutSpec& spec,
                                        const ResolveMetrics& resolve) {
  std::vector<std::string> out;
  if (spec.background_analysis) {
    auto metrics = resolve(spec.background_analysis->analysis, "spec.analysis");
    if (metrics.ok())
      AddWarnings(out, AnalysisWarnings("spec.analysis", *metrics, true));
  }
  for (size_t i = 0; i < spec.steps.size(); ++i) {
    if (spec.steps[i].kind != Step::Kind::kAnalysis) continue;
    const std::string where = absl::StrCat("spec.steps[", i, "].analysis");
    auto metrics = resolve(spec.steps[i].analysis, where);
    if (metrics.ok())
      AddWarnings(out, AnalysisWarnings(where, *metrics, false));
  }
  return out;
}

void AddWarnings(std::vector<std::string>& to,
                 const std::vector<std::string>& warnings) {
  for (const std::string& warning : warnings) {
    if (std::find(to.begin(), to.end(), warning) == to.end())
      to.push_back(warning);
  }
}

}  // namespace smartcanary
