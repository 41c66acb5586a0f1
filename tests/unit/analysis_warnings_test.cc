// Reading PromQL text and the submit-time warnings built on it, plus the
// spec fields that go with them (onError, scrapeInterval, progress deadline).
#include <gtest/gtest.h>

#include "controller/analysis/promql_text.h"
#include "controller/analysis/submit_warnings.h"
#include "controller/rollout_proto.h"

namespace smartcanary {
namespace {

using nlohmann::json;

constexpr char kErrorRatio[] =
    "sum(rate(istio_requests_total{reporter=\"destination\","
    "destination_canonical_revision=\"{{args.version}}\","
    "grpc_response_status!=\"0\"}[30s])) / "
    "sum(rate(istio_requests_total{reporter=\"destination\","
    "destination_canonical_revision=\"{{args.version}}\"}[30s]))";

TEST(PromqlTextTest, HugeDurationsSaturateInsteadOfOverflowing) {
  absl::Duration d;
  ASSERT_TRUE(ParsePromDuration("9223372036854775807y", &d));
  EXPECT_EQ(d, absl::InfiniteDuration());
  ASSERT_TRUE(ParsePromDuration("2w", &d));
  EXPECT_EQ(d, absl::Hours(24 * 14));
}

TEST(PromqlTextTest, RangeSelectorsAndSubqueries) {
  EXPECT_EQ(RangeSelectors("rate(a[5m]) + max_over_time(b[1h:30s]) + c[90s]"),
            (std::vector<absl::Duration>{absl::Minutes(5), absl::Hours(1),
                                         absl::Seconds(90)}));
  EXPECT_EQ(RangeSelectors("rate(a{path=~\"/v[0-9]+\"}[1m30s])"),
            std::vector<absl::Duration>{absl::Seconds(90)})
      << "brackets inside strings are not ranges";
  EXPECT_TRUE(RangeSelectors("rate(a[{{args.window}}])").empty());
  EXPECT_TRUE(RangeSelectors("up").empty());
  absl::Duration d;
  ASSERT_TRUE(ParsePromDuration("1d2h", &d));
  EXPECT_EQ(d, absl::Hours(26));
  ASSERT_TRUE(ParsePromDuration("250ms", &d));
  EXPECT_EQ(d, absl::Milliseconds(250));
  EXPECT_FALSE(ParsePromDuration("5x", &d));
  EXPECT_FALSE(ParsePromDuration("m", &d));
}

TEST(PromqlTextTest, RatioAndLabelMatchers) {
  Ratio ratio;
  ASSERT_TRUE(SplitRatio(kErrorRatio, &ratio));
  EXPECT_EQ(LabelMatchers(ratio.numerator),
            (std::vector<std::string>{
                "reporter=\"destination\"",
                "destination_canonical_revision=\"{{args.version}}\"",
                "grpc_response_status!=\"0\""}));
  EXPECT_EQ(LabelMatchers(ratio.denominator).size(), 2u);
  EXPECT_FALSE(SplitRatio("sum(rate(a[1m]) / rate(b[1m]))", &ratio))
      << "a division inside brackets is not the query's";
  EXPECT_FALSE(SplitRatio("a{path=\"/x\"}", &ratio));
  EXPECT_EQ(LabelMatchers("a{x=\"1,2\", y=~\"a|b\"}"),
            (std::vector<std::string>{"x=\"1,2\"", "y=~\"a|b\""}));
}

MetricSpec Threshold(const std::string& query) {
  MetricSpec metric;
  metric.name = "m";
  metric.interval = absl::Seconds(5);
  metric.initial_delay = absl::Seconds(60);
  metric.inconclusive_limit = 3;
  metric.scrape_interval = absl::Seconds(1);
  metric.query.mutable_prometheus()->set_query(query);
  return metric;
}

bool Mentions(const std::vector<std::string>& warnings,
              const std::string& part) {
  for (const std::string& w : warnings) {
    if (w.find(part) != std::string::npos) return true;
  }
  return false;
}

TEST(AnalysisWarningsTest, AnEmptyNumeratorIsNoDataNotZero) {
  auto warnings =
      AnalysisWarnings("spec.analysis", {Threshold(kErrorRatio)}, true);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind("spec.analysis: metric \"m\": ", 0), 0u);
  EXPECT_TRUE(Mentions(warnings, "or vector(0)"));
  EXPECT_TRUE(Mentions(warnings, "comparative provider"));
  // Guarded, unfiltered or not a ratio: nothing to say.
  for (const std::string& query :
       {std::string("(sum(rate(req{code!=\"0\"}[1m])) or vector(0)) / "
                    "sum(rate(req[1m]))"),
        std::string(
            "sum(rate(req{v=\"2\"}[1m])) / sum(rate(req{v=\"2\"}[1m]))"),
        std::string("histogram_quantile(0.99, sum(rate(b{v=\"2\"}[1m])) by "
                    "(le))")}) {
    EXPECT_TRUE(AnalysisWarnings("w", {Threshold(query)}, true).empty())
        << query;
  }
}

TEST(AnalysisWarningsTest, RangesShorterThanTwoScrapes) {
  MetricSpec metric = Threshold("sum(rate(req[10s]))");
  metric.scrape_interval = absl::Seconds(15);
  auto warnings = AnalysisWarnings("w", {metric}, false);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(Mentions(warnings, "[10s] holds fewer than two scrapes"));
  metric.scrape_interval = absl::Seconds(5);
  EXPECT_TRUE(AnalysisWarnings("w", {metric}, false).empty());
}

TEST(AnalysisWarningsTest, BackgroundInitialDelayAndInconclusiveLimit) {
  MetricSpec metric = Threshold("sum(rate(req[2m]))");
  metric.scrape_interval.reset();
  metric.initial_delay = absl::ZeroDuration();
  metric.inconclusive_limit = 0;
  auto warnings = AnalysisWarnings("spec.analysis", {metric}, true);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_TRUE(Mentions(warnings,
                       "initialDelay 0 is shorter than one scrape "
                       "interval (30s, the default"));
  EXPECT_TRUE(Mentions(warnings, "Pending for the warm-up (2m30s)"));
  EXPECT_TRUE(Mentions(warnings, "inconclusiveLimit 0"));
  EXPECT_TRUE(
      AnalysisWarnings("spec.steps[1].analysis", {metric}, false).empty())
      << "a step analysis blocks the rollout anyway";
  metric.scrape_interval = absl::Seconds(1);
  metric.initial_delay = absl::Seconds(1);
  metric.inconclusive_limit = 2;
  EXPECT_TRUE(AnalysisWarnings("spec.analysis", {metric}, true).empty());
}

TEST(AnalysisWarningsTest, SubmitWarningsCoverEveryAnalysisOnce) {
  RolloutSpec spec;
  spec.steps = {Step{Step::Kind::kSetWeight, 20, std::nullopt, {}},
                Step{Step::Kind::kAnalysis, 0, std::nullopt,
                     AnalysisRef{{{"errors", false}}, {}}},
                Step{Step::Kind::kAnalysis, 0, std::nullopt,
                     AnalysisRef{{{"missing", false}}, {}}}};
  spec.background_analysis =
      BackgroundAnalysis{AnalysisRef{{{"errors", false}}, {}}, 0};
  std::vector<std::string> asked;
  auto warnings = SubmitWarnings(
      spec,
      [&](const AnalysisRef& ref,
          const std::string& where) -> absl::StatusOr<std::vector<MetricSpec>> {
        asked.push_back(where);
        if (ref.templates[0].name == "missing")
          return absl::FailedPreconditionError("no such template");
        return std::vector<MetricSpec>{Threshold(kErrorRatio)};
      });
  EXPECT_EQ(asked,
            (std::vector<std::string>{"spec.analysis", "spec.steps[1].analysis",
                                      "spec.steps[2].analysis"}));
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0].rfind("spec.analysis:", 0), 0u);
  EXPECT_EQ(warnings[1].rfind("spec.steps[1].analysis:", 0), 0u);
  std::vector<std::string> kept = warnings;
  AddWarnings(kept, warnings);
  EXPECT_EQ(kept, warnings) << "no repeats";
}

json SpecJson() {
  return json::parse(R"({
    "canaryLabels": {"version": "v2"},
    "trafficRouting": {"istio": {
      "virtualService": {"name": "vs"},
      "destinationRule": {"name": "dr", "stableSubsetName": "stable",
                          "canarySubsetName": "canary"}}},
    "progressDeadlineSeconds": 120,
    "progressDeadlineAbort": true,
    "analysis": {"templates": [{"templateName": "errors"}], "onError": "pause",
                 "startingStep": 1},
    "steps": [{"setWeight": 20},
              {"analysis": {"templates": [{"templateName": "t"}],
                            "onError": "rollback"}}]
  })");
}

TEST(PolicySpecTest, DeadlineAndOnErrorParseAndRoundTrip) {
  auto spec = ParseRolloutSpec(SpecJson());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->progress_deadline, absl::Minutes(2));
  EXPECT_TRUE(spec->progress_deadline_abort);
  EXPECT_EQ(spec->background_analysis->analysis.on_error, OnError::kPause);
  EXPECT_EQ(spec->steps[1].analysis.on_error, OnError::kRollback);
  EXPECT_EQ(*ParseRolloutSpec(RolloutSpecToJson(*spec)), *spec);
  EXPECT_EQ(*SpecFromProto(SpecToProto(*spec)), *spec);
}

TEST(PolicySpecTest, ErrorsNameTheField) {
  auto error = [](json spec) {
    auto parsed = ParseRolloutSpec(spec);
    EXPECT_FALSE(parsed.ok());
    return std::string(parsed.status().message());
  };
  json spec = SpecJson();
  spec["analysis"]["onError"] = "ignore";
  EXPECT_EQ(error(spec),
            "spec.analysis.onError: \"ignore\" is not one of rollback, pause");
  spec = SpecJson();
  spec["progressDeadlineSeconds"] = 0;
  EXPECT_EQ(error(spec),
            "spec.progressDeadlineSeconds: must be a whole number of seconds, "
            "at least 1");
  spec = SpecJson();
  spec.erase("progressDeadlineSeconds");
  EXPECT_EQ(error(spec),
            "spec.progressDeadlineAbort: needs spec.progressDeadlineSeconds");
  v1::RolloutSpec proto = SpecToProto(*ParseRolloutSpec(SpecJson()));
  proto.mutable_analysis()->mutable_analysis()->set_on_error("later");
  EXPECT_FALSE(SpecFromProto(proto).ok());
}

TEST(PolicySpecTest, ScrapeIntervalOnTheTemplatesPrometheus) {
  auto parsed = ParseAnalysisTemplate(
      json::parse(R"j({"metrics": [{"name": "m", "interval": "5s",
        "successCondition": "result[0] < 0.01",
        "provider": {"prometheus": {"address": "http://p:9090",
          "query": "sum(rate(x[20s]))", "scrapeInterval": "15s"}}}]})j"),
      "template t");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->metrics[0].scrape_interval, absl::Seconds(15));
  EXPECT_EQ(parsed->metrics[0].WarmUp(), absl::Seconds(35));
  auto bad = ParseAnalysisTemplate(
      json::parse(R"({"metrics": [{"name": "m", "successCondition": "true",
        "provider": {"prometheus": {"address": "a", "query": "q",
          "scrapeInterval": "often"}}}]})"),
      "template t");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("scrapeInterval"), std::string::npos)
      << bad.status();
}

}  // namespace
}  // namespace smartcanary
