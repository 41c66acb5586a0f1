// What `canaryctl get` and the gRPC reply show of a held rollout: the pause
// reason, the warnings, the deadline condition and the live measurements,
// from the status through RolloutToProto to the rendered tree.
#include <gtest/gtest.h>

#include "cli/render.h"
#include "controller/canary_rollout.h"
#include "controller/rollout_proto.h"
#include "tests/unit/rollout_specs.h"

namespace smartcanary {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

CanaryRollout HeldRollout() {
  CanaryRollout rollout;
  rollout.namespace_name = "shop";
  rollout.name = "rpc-server";
  rollout.generation = 1;
  rollout.spec =
      SubsetRouted({Step{Step::Kind::kSetWeight, 20, std::nullopt, {}},
                    Step{Step::Kind::kPause, 0, std::nullopt, {}}});
  rollout.spec.background_analysis =
      BackgroundAnalysis{AnalysisRef{{{"errors", false}}, {}}, 1};
  MetricSpec metric;
  metric.name = "error-ratio";
  metric.interval = absl::Seconds(5);
  metric.scrape_interval = absl::Seconds(1);
  metric.query.mutable_prometheus()->set_query("sum(rate(x[10s]))");
  std::vector<MetricSpec> specs = {metric};
  RolloutStatus& status = rollout.status;
  status.observed_generation = 1;
  status.phase = Phase::kPaused;
  status.current_step_index = 1;
  status.canary_weight = 20;
  status.pause_reason = PauseReason::kInconclusive;
  status.message = "background analysis inconclusive: ...";
  status.warnings = {"spec.analysis: metric \"error-ratio\": advice"};
  status.conditions.push_back(
      {"Progressing", "False", kProgressDeadlineExceeded, "no progress", kT0});
  AnalysisRun run = StartRun(-1, specs, kT0);
  for (int s : {0, 5, 10, 15}) {
    MeasurementRecord record{MeasurementPhase::kInconclusive,
                             {},
                             "no data: the query returned an empty vector",
                             kT0 + absl::Seconds(s)};
    record.no_data = true;
    run = Record(specs, run, "error-ratio", record);
  }
  status.background_run = run;
  return rollout;
}

TEST(HeldRolloutRenderTest, TheReplyCarriesReasonWarningsConditionsAndRecent) {
  const v1::Rollout proto = RolloutToProto(HeldRollout());
  EXPECT_EQ(proto.pause_reason(), "Inconclusive");
  EXPECT_FALSE(proto.paused_by_user());
  ASSERT_EQ(proto.warnings_size(), 1);
  ASSERT_EQ(proto.conditions_size(), 1);
  EXPECT_EQ(proto.conditions(0).reason(), "ProgressDeadlineExceeded");
  const v1::MetricStatus& metric = proto.analysis_runs(0).metrics(0);
  EXPECT_EQ(metric.pending(), 3);
  EXPECT_EQ(metric.inconclusive(), 1);
  ASSERT_EQ(metric.recent_size(), 4);
  EXPECT_EQ(metric.recent(0).phase(), "Pending");
  EXPECT_EQ(metric.recent(3).phase(), "Inconclusive");
  EXPECT_EQ(metric.recent(3).at().seconds(), absl::ToUnixSeconds(kT0) + 15);
}

TEST(HeldRolloutRenderTest, GetShowsTheHoldAndTheLastMeasurements) {
  const std::string tree =
      cli::RenderRolloutTree(RolloutToProto(HeldRollout()));
  for (const char* part :
       {"Paused (held: analysis inconclusive, measuring on)",
        "Condition:     Progressing=False ProgressDeadlineExceeded: no "
        "progress",
        "Warning:       spec.analysis: metric \"error-ratio\": advice",
        "✔ 0  ✖ 0  ? 1  ⚠ 0  ◷ 3 pending"}) {
    EXPECT_NE(tree.find(part), std::string::npos) << part << "\n" << tree;
  }
  // The last three of four measurements, oldest first.
  const size_t second = tree.find("◷ pending: warm-up until");
  const size_t last = tree.find("? no data: the query returned");
  EXPECT_NE(second, std::string::npos) << tree;
  EXPECT_NE(last, std::string::npos) << tree;
  EXPECT_LT(second, last);
  EXPECT_EQ(tree.find("1800000000"), std::string::npos);
  EXPECT_NE(tree.find(":00:05 ◷"), std::string::npos) << tree;
  EXPECT_EQ(tree.find(":00:00 ◷"), std::string::npos)
      << "only the last three are shown\n"
      << tree;
  const nlohmann::json json = cli::RolloutToJson(RolloutToProto(HeldRollout()));
  EXPECT_EQ(json["pauseReason"], "Inconclusive");
  EXPECT_EQ(json["analysis"][0]["metrics"][0]["pending"], 3);
}

}  // namespace
}  // namespace smartcanary
