#include "controller/rollout_spec.h"

#include <gtest/gtest.h>

#include "controller/rollout_proto.h"
#include "controller/rollout_status.h"
#include "tests/unit/rollout_specs.h"

namespace smartcanary {
namespace {

using nlohmann::json;

json ValidSpec() { return ArticleSpecJson(); }

std::string ErrorOf(const json& spec) {
  auto parsed = ParseRolloutSpec(spec);
  EXPECT_FALSE(parsed.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(parsed.status()));
  return std::string(parsed.status().message());
}

TEST(RolloutSpecTest, ParsesTheArticlePlanAndRoundTrips) {
  auto spec = ParseRolloutSpec(ValidSpec());
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->steps.size(), 5u);
  EXPECT_EQ(spec->steps[0].weight, 20);
  EXPECT_FALSE(spec->steps[1].pause_duration.has_value());
  EXPECT_EQ(spec->steps[3].pause_duration, absl::Seconds(30));
  EXPECT_TRUE(spec->traffic_routing.subset_level());
  EXPECT_EQ(*ParseRolloutSpec(RolloutSpecToJson(*spec)), *spec);
  EXPECT_EQ(*SpecFromProto(SpecToProto(*spec)), *spec);
}

TEST(RolloutSpecTest, ErrorsNameTheField) {
  json spec = ValidSpec();
  spec["steps"][2]["setWeight"] = 120;
  EXPECT_EQ(ErrorOf(spec),
            "spec.steps[2].setWeight: must be between 0 and 100, got 120");

  spec = ValidSpec();
  spec["steps"][1] = {{"setCanaryScale", {{"replicas", 1}}}};
  EXPECT_EQ(ErrorOf(spec),
            "spec.steps[1].setCanaryScale: unknown step type (supported: "
            "setWeight, pause, analysis)");

  spec = ValidSpec();
  spec["steps"][3]["pause"]["duration"] = "soon";
  EXPECT_EQ(ErrorOf(spec),
            "spec.steps[3].pause.duration: \"soon\" is not a duration such as "
            "\"30s\", \"10m\" or \"1h\"");

  spec = ValidSpec();
  spec["trafficRouting"]["istio"]["virtualService"].erase("name");
  EXPECT_EQ(ErrorOf(spec),
            "spec.trafficRouting.istio.virtualService.name: is required");

  spec = ValidSpec();
  spec["trafficRouting"]["istio"]["virtualService"]["nmae"] = "typo";
  EXPECT_NE(ErrorOf(spec).find(
                "spec.trafficRouting.istio.virtualService.nmae: unknown field"),
            std::string::npos);

  spec = ValidSpec();
  spec.erase("canaryLabels");
  EXPECT_NE(ErrorOf(spec).find(
                "spec.canaryLabels: is required for subset-level routing"),
            std::string::npos);

  spec = ValidSpec();
  spec["steps"] = json::array();
  EXPECT_EQ(ErrorOf(spec), "spec.steps: must list at least one step");

  spec = ValidSpec();
  spec["stableService"] = "a";
  EXPECT_NE(ErrorOf(spec).find("not both"), std::string::npos);
}

TEST(RolloutSpecTest, AnalysisStepsAndBackgroundAnalysisRoundTrip) {
  json spec = ValidSpec();
  spec["steps"][1] = json::parse(
      R"({"analysis": {"templates": [{"templateName": "success-rate",
      "clusterScope": true}], "args": [{"name": "service-name", "value": "rpc-server"}]}})");
  spec["analysis"] = json::parse(
      R"({"templates": [{"templateName": "errors"}], "startingStep": 2})");
  auto parsed = ParseRolloutSpec(spec);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->steps[1].kind, Step::Kind::kAnalysis);
  EXPECT_TRUE(parsed->steps[1].analysis.templates[0].cluster_scope);
  EXPECT_EQ(parsed->background_analysis->starting_step, 2);
  EXPECT_EQ(*ParseRolloutSpec(RolloutSpecToJson(*parsed)), *parsed);
  EXPECT_EQ(*SpecFromProto(SpecToProto(*parsed)), *parsed);

  spec["analysis"]["startingStep"] = 9;
  EXPECT_EQ(
      ErrorOf(spec),
      "spec.analysis.startingStep: must be a step index from 0 to 4, got 9");
  spec = ValidSpec();
  spec["steps"][1] = json::parse(R"({"analysis": {"templates": []}})");
  EXPECT_EQ(
      ErrorOf(spec),
      "spec.steps[1].analysis.templates: must list at least one template");
}

TEST(RolloutSpecTest, HostLevelNeedsBothServices) {
  json spec = ValidSpec();
  spec["trafficRouting"]["istio"].erase("destinationRule");
  spec["stableService"] = "rpc-stable";
  EXPECT_EQ(ErrorOf(spec), "spec.canaryService: is required");
  spec["canaryService"] = "rpc-canary";
  auto parsed = ParseRolloutSpec(spec);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->traffic_routing.subset_level());
}

TEST(RolloutSpecTest, DurationsAsArgoAcceptsThem) {
  EXPECT_EQ(*ParseStepDuration(json("10m")), absl::Minutes(10));
  EXPECT_EQ(*ParseStepDuration(json("1h30m")), absl::Minutes(90));
  EXPECT_EQ(*ParseStepDuration(json(45)), absl::Seconds(45));
  EXPECT_EQ(*ParseStepDuration(json("45")), absl::Seconds(45));
  EXPECT_FALSE(ParseStepDuration(json("-5s")).ok());
  EXPECT_FALSE(ParseStepDuration(json(true)).ok());
}

TEST(RolloutStatusTest, RoundTripsThroughJsonExactly) {
  RolloutStatus status;
  status.phase = Phase::kPaused;
  status.current_step_index = 3;
  status.canary_weight = 50;
  status.message = "step 4/5: paused for 30s";
  status.pause_started_at = absl::FromUnixMicros(1'800'000'000'123'456);
  status.pause_reason = PauseReason::kUser;
  status.observed_generation = 7;
  json written = RolloutStatusToJson(status);
  EXPECT_EQ(written["stableWeight"], 50);
  EXPECT_EQ(*ParseRolloutStatus(written), status);
  EXPECT_EQ(*ParseRolloutStatus(json()), RolloutStatus{});
  EXPECT_FALSE(ParseRolloutStatus(json{{"phase", "Exploded"}}).ok());
}

}  // namespace
}  // namespace smartcanary
