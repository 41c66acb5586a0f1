#include "controller/preflight_plan.h"

#include <gtest/gtest.h>

#include "controller/notify/notification.h"
#include "controller/rollout_events.h"

namespace smartcanary {
namespace {

TEST(PreflightPlan, TimedPausesAtTheWeightInForceFromTheCurrentStep) {
  RolloutSpec spec;
  spec.steps = {Step{Step::Kind::kSetWeight, 20, std::nullopt, {}},
                Step{Step::Kind::kPause, 0, absl::Minutes(5), {}},
                Step{Step::Kind::kSetWeight, 50, std::nullopt, {}},
                Step{Step::Kind::kPause, 0, std::nullopt, {}}};
  RolloutStatus status;
  auto plan = PreflightPlan(spec, status);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].canary_weight(), 20);
  EXPECT_EQ(plan[0].duration_seconds(), 300);
  EXPECT_EQ(plan[1].canary_weight(), 50);
  EXPECT_TRUE(plan[1].until_promoted());
  // From the second pause on, at the weight the status says.
  status.current_step_index = 3;
  status.canary_weight = 50;
  plan = PreflightPlan(spec, status);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].canary_weight(), 50);
}

TEST(PreflightPlan, TheAnswerBecomesTheStatusWithMinusOneAsNever) {
  v1::PreflightResponse response;
  response.set_regression_seconds(-1);
  response.set_not_worse_seconds(900);
  response.set_regression_within_plan(false);
  response.set_message("too short");
  const absl::Time at = absl::FromUnixSeconds(1'800'000'000);
  const PreflightStatus status = PreflightFromResponse(response, at);
  EXPECT_EQ(status.regression_detected, absl::InfiniteDuration());
  EXPECT_EQ(status.not_worse_proven, absl::Seconds(900));
  EXPECT_TRUE(status.Fails());
  EXPECT_EQ(status.computed_at, at);
  EXPECT_EQ(status.message, "too short");
}

TEST(PreflightEvents, OneEventPerNewVerdictWithItsReason) {
  RolloutStatus before;
  RolloutStatus after = before;
  after.preflight = PreflightStatus{};
  after.preflight->message = "a 2x regression shows in 4m";
  after.preflight->plan_long_enough = true;
  auto events = EventsBetween(before, after);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "preflight");
  EXPECT_EQ(events[0].verdict, "Passed");
  EXPECT_EQ(notify::ReasonFor(events[0]).reason, "PreflightPassed");
  // A refresh with the same verdict is no news.
  RolloutStatus refreshed = after;
  refreshed.preflight->computed_at += absl::Minutes(1);
  EXPECT_TRUE(EventsBetween(after, refreshed).empty());
  refreshed.preflight->plan_long_enough = false;
  events = EventsBetween(after, refreshed);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(notify::ReasonFor(events[0]).reason, "PreflightWarning");
  EXPECT_EQ(notify::ReasonFor(events[0]).type, notify::EventType::kWarning);
}

}  // namespace
}  // namespace smartcanary
