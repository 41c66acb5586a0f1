// Argo's dryRun: a template's dry-run metrics are measured and shown but
// never fail, hold or pause the rollout.
#include <gtest/gtest.h>

#include "controller/analysis/analysis_run.h"
#include "controller/analysis/analysis_spec.h"

namespace smartcanary {
namespace {

using nlohmann::json;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

json Template(const json& dry_run) {
  json spec = json::parse(R"json({"metrics": [
      {"name": "success-rate", "successCondition": "result[0] >= 0.99",
       "provider": {"prometheus": {"address": "http://p:9090",
                                   "query": "vector(1)"}}},
      {"name": "new-latency-p99", "successCondition": "result[0] < 0.3",
       "provider": {"prometheus": {"address": "http://p:9090",
                                   "query": "vector(1)"}}}]})json");
  if (!dry_run.is_null()) spec["dryRun"] = dry_run;
  return spec;
}

std::vector<bool> DryRunFlags(const json& dry_run) {
  auto parsed = ParseAnalysisTemplate(Template(dry_run), "t");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  std::vector<bool> out;
  if (parsed.ok()) {
    for (const MetricSpec& m : parsed->metrics) out.push_back(m.dry_run);
  }
  return out;
}

std::string DryRunError(const json& dry_run) {
  auto parsed = ParseAnalysisTemplate(Template(dry_run), "t");
  EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << parsed.status();
  return std::string(parsed.status().message());
}

TEST(DryRunSpecTest, NamesAndRegularExpressionsAsArgoMatchesThem) {
  EXPECT_EQ(DryRunFlags(json()), (std::vector<bool>{false, false}));
  EXPECT_EQ(DryRunFlags(json::parse(R"([{"metricName": "new-latency-p99"}])")),
            (std::vector<bool>{false, true}));
  EXPECT_EQ(DryRunFlags(json::parse(R"([{"metricName": ".*"}])")),
            (std::vector<bool>{true, true}));
  // Unanchored, as Go's regexp.MatchString.
  EXPECT_EQ(DryRunFlags(json::parse(R"([{"metricName": "latency"}])")),
            (std::vector<bool>{false, true}));
}

TEST(DryRunSpecTest, MistakesNameTheField) {
  EXPECT_EQ(DryRunError(json::parse(R"([{"metricName": "latncy"}])")),
            "t spec.dryRun[0].metricName: \"latncy\" matches no metric of "
            "this template");
  EXPECT_NE(DryRunError(json::parse(R"([{"metricName": "(unclosed"}])"))
                .find("t spec.dryRun[0].metricName: \"(unclosed\" is not a "
                      "regular expression"),
            std::string::npos);
  EXPECT_NE(DryRunError(json::parse(R"([{"metricNmae": ".*"}])"))
                .find("t spec.dryRun[0].metricNmae: unknown field"),
            std::string::npos);
  EXPECT_EQ(DryRunError(json::parse(R"({"metricName": ".*"})")),
            "t spec.dryRun: must be a list of {metricName: NAME}");
  EXPECT_EQ(DryRunError(json::parse(R"([{"metricName": 3}])")),
            "t spec.dryRun[0].metricName: must be a string, got number");
  // Argo's measurementRetention is not implemented: refused, not ignored.
  json spec = Template(json());
  spec["measurementRetention"] = json::array();
  auto parsed = ParseAnalysisTemplate(spec, "t");
  EXPECT_NE(parsed.status().message().find(
                "t spec.measurementRetention: unknown field"),
            std::string::npos)
      << parsed.status();
}

MeasurementRecord M(MeasurementPhase phase, absl::Time at) {
  return {phase, {0.5}, analysis::MeasurementPhaseName(phase), at};
}

std::vector<MetricSpec> Metrics(bool second_dry_run) {
  std::vector<MetricSpec> specs(2);
  specs[0].name = "success-rate";
  specs[1].name = "new-latency-p99";
  specs[1].dry_run = second_dry_run;
  return specs;
}

TEST(DryRunRunTest, AFailingDryRunMetricIsShownButTheRunSucceeds) {
  const std::vector<MetricSpec> specs = Metrics(true);
  AnalysisRun run = StartRun(2, specs, kT0);
  EXPECT_TRUE(run.metrics[1].dry_run);
  run =
      Record(specs, run, "new-latency-p99", M(MeasurementPhase::kFailed, kT0));
  EXPECT_EQ(run.metrics[1].phase, RunPhase::kFailed);
  EXPECT_EQ(run.phase, RunPhase::kRunning) << "success-rate is still due";
  run =
      Record(specs, run, "success-rate", M(MeasurementPhase::kSuccessful, kT0));
  EXPECT_EQ(run.phase, RunPhase::kSuccessful) << run.message;
  EXPECT_EQ(run.message,
            "all metrics successful; new-latency-p99 (dry-run) Failed (✔0 ✖1 "
            "?0 ⚠0)");
  // The status keeps the mark and the failure.
  json status = AnalysisRunToJson(run);
  EXPECT_EQ(status["metrics"][1]["dryRun"], true);
  EXPECT_EQ(status["metrics"][1]["failed"], 1);
  EXPECT_FALSE(status["metrics"][0].contains("dryRun"));
  EXPECT_EQ(*AnalysisRunFromJson(status), run);
}

TEST(DryRunRunTest, TheSameFailureFailsTheRunWhenNotDryRun) {
  const std::vector<MetricSpec> specs = Metrics(false);
  AnalysisRun run = StartRun(2, specs, kT0);
  run =
      Record(specs, run, "new-latency-p99", M(MeasurementPhase::kFailed, kT0));
  EXPECT_EQ(run.phase, RunPhase::kFailed);
}

TEST(DryRunRunTest, ADryRunMetricStillRunningKeepsTheRunRunning) {
  const std::vector<MetricSpec> specs = Metrics(true);
  AnalysisRun run = StartRun(2, specs, kT0);
  run =
      Record(specs, run, "success-rate", M(MeasurementPhase::kSuccessful, kT0));
  EXPECT_EQ(run.phase, RunPhase::kRunning);
  // Errors and inconclusive results of a dry-run metric hold nothing either.
  std::vector<MetricSpec> erring = specs;
  erring[1].consecutive_error_limit = 0;
  run =
      Record(erring, run, "new-latency-p99", M(MeasurementPhase::kError, kT0));
  EXPECT_EQ(run.metrics[1].phase, RunPhase::kError);
  EXPECT_EQ(run.phase, RunPhase::kSuccessful) << run.message;
}

TEST(DryRunRunTest, ConcludingIgnoresDryRunMetricsWithoutSuccess) {
  std::vector<MetricSpec> specs = Metrics(true);
  for (MetricSpec& spec : specs) spec.interval = absl::Seconds(5);
  AnalysisRun run = StartRun(-1, specs, kT0);
  run =
      Record(specs, run, "success-rate", M(MeasurementPhase::kSuccessful, kT0));
  run = Record(specs, run, "new-latency-p99",
               M(MeasurementPhase::kInconclusive, kT0));
  EXPECT_EQ(Conclude(run).phase, RunPhase::kSuccessful);
}

}  // namespace
}  // namespace smartcanary
