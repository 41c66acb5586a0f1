#include "controller/preflight_gate.h"

#include <gtest/gtest.h>

#include "controller/state_machine.h"
#include "tests/unit/rollout_specs.h"

namespace smartcanary {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);
constexpr int64_t kGeneration = 3;

RolloutSpec Spec(PreflightPolicy policy) {
  RolloutSpec spec =
      SubsetRouted({Step{Step::Kind::kSetWeight, 20, std::nullopt, {}},
                    Step{Step::Kind::kPause, 0, absl::Minutes(5), {}}});
  spec.preflight = policy;
  return spec;
}

PreflightStatus TooShort() {
  PreflightStatus p;
  p.plan_long_enough = false;
  p.regression_detected = absl::InfiniteDuration();
  p.message = "a 2x regression would not show within the plan";
  p.computed_at = kStart;
  p.generation = kGeneration;
  return p;
}

// A started rollout at its first step, the canary still at 0.
RolloutStatus Started(std::optional<PreflightStatus> preflight) {
  RolloutStatus status;
  status.observed_generation = kGeneration;
  status.progress_at = kStart;
  status.weight_history = {{kStart, 0}};
  status.preflight = preflight;
  return status;
}

TEST(PreflightGate, EnforceHoldsATooShortPlanAtWeightZero) {
  const Decision d = Decide(Spec(PreflightPolicy::kEnforce), kGeneration,
                            Started(TooShort()), kStart);
  EXPECT_EQ(d.canary_weight, 0);
  EXPECT_EQ(d.next.canary_weight, 0);
  EXPECT_EQ(d.next.current_step_index, 0);
  EXPECT_EQ(d.next.phase, Phase::kPaused);
  EXPECT_EQ(d.next.pause_reason, PauseReason::kPreflight);
  EXPECT_NE(d.next.message.find("held by pre-flight (spec.preflight: enforce)"),
            std::string::npos)
      << d.next.message;
  EXPECT_NE(d.next.message.find("would not show within the plan"),
            std::string::npos);
}

TEST(PreflightGate, WarnUnknownAndPassingNeverHold) {
  PreflightStatus unknown = TooShort();
  unknown.unknown = true;
  PreflightStatus passed = TooShort();
  passed.plan_long_enough = true;
  PreflightStatus stale = TooShort();
  stale.generation = kGeneration - 1;
  const struct {
    PreflightPolicy policy;
    std::optional<PreflightStatus> preflight;
  } cases[] = {{PreflightPolicy::kWarn, TooShort()},
               {PreflightPolicy::kEnforce, unknown},
               {PreflightPolicy::kEnforce, passed},
               {PreflightPolicy::kEnforce, stale},
               {PreflightPolicy::kEnforce, std::nullopt}};
  for (const auto& c : cases) {
    const Decision d =
        Decide(Spec(c.policy), kGeneration, Started(c.preflight), kStart);
    EXPECT_EQ(d.canary_weight, 20);
    EXPECT_EQ(d.next.pause_reason, PauseReason::kNone);
  }
}

TEST(PreflightGate, OnlyTheFirstTrafficIsGated) {
  RolloutStatus serving = Started(TooShort());
  serving.canary_weight = 20;
  EXPECT_FALSE(PreflightHoldMessage(Spec(PreflightPolicy::kEnforce), serving));
}

TEST(PreflightGate, APassingPreflightLiftsTheHoldInTheSameDecision) {
  const RolloutSpec spec = Spec(PreflightPolicy::kEnforce);
  RolloutStatus held =
      Decide(spec, kGeneration, Started(TooShort()), kStart).next;
  ASSERT_EQ(held.pause_reason, PauseReason::kPreflight);
  held.preflight->plan_long_enough = true;
  const Decision d = Decide(spec, kGeneration, held, kStart + absl::Minutes(1));
  EXPECT_EQ(d.canary_weight, 20);
  EXPECT_EQ(d.next.phase, Phase::kProgressing);
  EXPECT_EQ(d.next.pause_reason, PauseReason::kNone);
}

TEST(PreflightGate, PromoteOverridesAndResumeIsRefused) {
  const RolloutSpec spec = Spec(PreflightPolicy::kEnforce);
  const RolloutStatus held =
      Decide(spec, kGeneration, Started(TooShort()), kStart).next;
  auto resumed = ApplyCommand(spec, held, Command::kResume);
  ASSERT_FALSE(resumed.ok());
  EXPECT_NE(resumed.status().message().find("promote to proceed anyway"),
            std::string::npos);
  auto promoted = ApplyCommand(spec, held, Command::kPromote);
  ASSERT_TRUE(promoted.ok()) << promoted.status();
  EXPECT_TRUE(promoted->preflight->overridden);
  const Decision d = Decide(spec, kGeneration, *promoted, kStart);
  EXPECT_EQ(d.canary_weight, 20);
  EXPECT_EQ(d.next.pause_reason, PauseReason::kNone);
  auto aborted = ApplyCommand(spec, held, Command::kAbort);
  ASSERT_TRUE(aborted.ok()) << aborted.status();
  EXPECT_EQ(aborted->phase, Phase::kDegraded);
}

TEST(PreflightPolicyField, ParsesWarnAndEnforceAndNamesTheFieldOtherwise) {
  EXPECT_EQ(*ParsePreflightPolicy("warn"), PreflightPolicy::kWarn);
  EXPECT_EQ(*ParsePreflightPolicy("enforce"), PreflightPolicy::kEnforce);
  EXPECT_EQ(ParsePreflightPolicy("block").status().message(),
            "spec.preflight: must be \"warn\" or \"enforce\"");
  EXPECT_FALSE(ParsePreflightPolicy(true).ok());
}

TEST(PreflightStatusJson, RoundTripsWithNeverAsMinusOne) {
  PreflightStatus p = TooShort();
  p.not_worse_proven = absl::Seconds(420);
  p.step_index = 2;
  p.overridden = true;
  const nlohmann::json json = PreflightStatusToJson(p);
  EXPECT_EQ(json["result"], "Warning");
  EXPECT_EQ(json["regressionSeconds"], -1);
  EXPECT_EQ(json["notWorseSeconds"], 420);
  auto back = PreflightStatusFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, p);
  nlohmann::json bad = json;
  bad["planLongEnough"] = "yes";
  EXPECT_EQ(
      PreflightStatusFromJson(bad).status().message(),
      "status.preflight.planLongEnough: must be true or false, got string");
}

}  // namespace
}  // namespace smartcanary
