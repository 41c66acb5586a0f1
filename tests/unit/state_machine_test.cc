#include "controller/state_machine.h"

#include <gtest/gtest.h>

#include <vector>

namespace smartcanary {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

Step Weight(int w) { return Step{Step::Kind::kSetWeight, w, std::nullopt, {}}; }
Step PauseFor(absl::Duration d) { return Step{Step::Kind::kPause, 0, d, {}}; }
Step PauseUntilPromoted() {
  return Step{Step::Kind::kPause, 0, std::nullopt, {}};
}

// The article's plan: 20, pause until promoted, 50, pause 30s, 100.
RolloutSpec ArticleSpec(bool subset_level = true) {
  RolloutSpec spec;
  spec.traffic_routing.virtual_service = "rpc-server";
  if (subset_level) {
    spec.traffic_routing.destination_rule = "rpc-server";
    spec.traffic_routing.stable_subset = "stable";
    spec.traffic_routing.canary_subset = "canary";
  } else {
    spec.traffic_routing.stable_service = "rpc-stable";
    spec.traffic_routing.canary_service = "rpc-canary";
  }
  spec.canary_labels = {{"version", "v2"}};
  spec.steps = {Weight(20), PauseUntilPromoted(), Weight(50),
                PauseFor(absl::Seconds(30)), Weight(100)};
  return spec;
}

// Runs decisions the way the reconciler does (zero requeue: decide again)
// until the rollout waits; returns the decisions made.
std::vector<Decision> RunUntilWaiting(const RolloutSpec& spec,
                                      int64_t generation, RolloutStatus& status,
                                      absl::Time now) {
  std::vector<Decision> made;
  for (int i = 0; i < 100; ++i) {
    Decision d = Decide(spec, generation, status, now);
    made.push_back(d);
    status = d.next;
    if (d.requeue_after != absl::ZeroDuration()) return made;
  }
  ADD_FAILURE() << "no waiting state reached";
  return made;
}

RolloutStatus Started(int64_t generation = 1) {
  RolloutStatus status;
  status.observed_generation = generation;
  return status;
}

TEST(DecideTest,
     NewGenerationStartsFromStepZeroOnStableAndSelectsCanaryLabels) {
  RolloutStatus status;  // never seen
  Decision d = Decide(ArticleSpec(), 1, status, kStart);
  EXPECT_EQ(d.next.observed_generation, 1);
  EXPECT_EQ(d.next.current_step_index, 0);
  EXPECT_EQ(d.next.phase, Phase::kProgressing);
  EXPECT_EQ(d.canary_weight, 0);
  EXPECT_TRUE(d.select_canary_labels);
  EXPECT_EQ(d.requeue_after, absl::ZeroDuration());
}

TEST(DecideTest, ArticlePlanRunsToHealthyWithWeightsAtEveryStep) {
  RolloutSpec spec = ArticleSpec();
  RolloutStatus status;
  auto made = RunUntilWaiting(spec, 1, status, kStart);
  ASSERT_EQ(made.size(), 3u);  // start, setWeight 20, pause
  EXPECT_EQ(made[1].canary_weight, 20);
  EXPECT_EQ(status.phase, Phase::kPaused);
  EXPECT_EQ(status.current_step_index, 1);
  EXPECT_EQ(status.canary_weight, 20);
  EXPECT_EQ(made.back().requeue_after, absl::InfiniteDuration());
  // Waiting forever without a promote.
  Decision idle = Decide(spec, 1, status, kStart + absl::Hours(5));
  EXPECT_EQ(idle.next, status);
  EXPECT_EQ(idle.canary_weight, 20);

  status = *ApplyCommand(spec, status, Command::kPromote);
  const absl::Time promoted = kStart + absl::Minutes(1);
  made = RunUntilWaiting(spec, 1, status, promoted);
  EXPECT_EQ(made.front().canary_weight, 50);
  EXPECT_EQ(status.phase, Phase::kPaused);
  EXPECT_EQ(status.current_step_index, 3);
  EXPECT_EQ(status.pause_started_at, promoted);
  EXPECT_EQ(made.back().requeue_after, absl::Seconds(30));

  // Half-way through the timed pause nothing moves; it asks to look again
  // when the pause ends.
  Decision mid = Decide(spec, 1, status, promoted + absl::Seconds(10));
  EXPECT_EQ(mid.next, status);
  EXPECT_EQ(mid.requeue_after, absl::Seconds(20));

  made = RunUntilWaiting(spec, 1, status, promoted + absl::Seconds(30));
  EXPECT_EQ(status.phase, Phase::kHealthy);
  EXPECT_EQ(status.canary_weight, 0);
  EXPECT_EQ(status.current_step_index, 5);
  ASSERT_GE(made.size(), 3u);
  EXPECT_EQ(made[1].canary_weight, 100);
  EXPECT_TRUE(made.back().promote_stable_labels);
  EXPECT_EQ(made.back().canary_weight, 0);
  EXPECT_EQ(made.back().requeue_after, absl::InfiniteDuration());
}

// Host-level too: 100% must end on the new version, so the stable Service
// takes the canary's labels before the weights return to stable.
TEST(DecideTest, HostLevelCompletionPromotesTheStableService) {
  RolloutSpec spec = ArticleSpec(false);
  spec.steps = {Weight(30)};
  RolloutStatus status;
  auto made = RunUntilWaiting(spec, 1, status, kStart);
  EXPECT_EQ(status.phase, Phase::kHealthy);
  EXPECT_TRUE(made.back().promote_stable_labels);
  EXPECT_EQ(made.back().canary_weight, 0);
}

TEST(DecideTest, FinishedRolloutsPinTrafficToStable) {
  for (Phase phase : {Phase::kHealthy, Phase::kDegraded}) {
    RolloutStatus status = Started();
    status.phase = phase;
    status.canary_weight = 40;  // e.g. written by an older canaryd
    Decision d = Decide(ArticleSpec(), 1, status, kStart);
    EXPECT_EQ(d.canary_weight, 0) << PhaseName(phase);
    EXPECT_EQ(d.next.phase, phase);
    EXPECT_EQ(d.requeue_after, absl::InfiniteDuration());
  }
}

TEST(DecideTest, ChangedSpecRestartsWhateverThePhase) {
  for (Phase phase : {Phase::kProgressing, Phase::kPaused, Phase::kHealthy,
                      Phase::kDegraded}) {
    RolloutStatus status = Started(1);
    status.phase = phase;
    status.current_step_index = 3;
    status.canary_weight = 50;
    status.pause_started_at = kStart;
    status.pause_reason = PauseReason::kUser;
    Decision d = Decide(ArticleSpec(), 2, status, kStart);
    EXPECT_EQ(d.next.observed_generation, 2) << PhaseName(phase);
    EXPECT_EQ(d.next.current_step_index, 0);
    EXPECT_EQ(d.canary_weight, 0) << "traffic returns to stable first";
    EXPECT_FALSE(d.next.paused_by_user());
    EXPECT_FALSE(d.next.pause_started_at.has_value());
    EXPECT_TRUE(d.select_canary_labels);
  }
}

TEST(DecideTest, UserPauseHoldsEveryStep) {
  RolloutSpec spec = ArticleSpec();
  for (int step = 0; step < 5; ++step) {
    RolloutStatus status = Started();
    status.current_step_index = step;
    status.canary_weight = 20;
    status.pause_reason = PauseReason::kUser;
    Decision d = Decide(spec, 1, status, kStart);
    EXPECT_EQ(d.next.current_step_index, step);
    EXPECT_EQ(d.next.phase, Phase::kPaused);
    EXPECT_EQ(d.canary_weight, 20);
    EXPECT_EQ(d.requeue_after, absl::InfiniteDuration());
  }
}

// A crash may come after any decision's traffic change and before its status
// write. Restarting from the last written status must reach the same end,
// repeating no step's effect except the idempotent traffic change and
// skipping none.
TEST(DecideTest, RestartAtEveryStepRepeatsNothingAndSkipsNothing) {
  RolloutSpec spec = ArticleSpec();
  spec.steps = {Weight(10), PauseFor(absl::Seconds(30)), Weight(40), Weight(70),
                PauseFor(absl::Seconds(30))};
  // The uninterrupted run, as the sequence of weights applied.
  auto run = [&](int crash_after) {
    std::vector<int> weights;
    RolloutStatus persisted;
    absl::Time now = kStart;
    int decisions = 0;
    for (int i = 0; i < 100 && persisted.phase != Phase::kHealthy; ++i) {
      Decision d = Decide(spec, 1, persisted, now);
      if (weights.empty() || weights.back() != d.canary_weight)
        weights.push_back(d.canary_weight);
      if (decisions++ == crash_after) continue;  // traffic applied, status lost
      persisted = d.next;
      if (d.requeue_after > absl::ZeroDuration() &&
          d.requeue_after != absl::InfiniteDuration()) {
        now += d.requeue_after;
      }
    }
    EXPECT_EQ(persisted.phase, Phase::kHealthy);
    return weights;
  };
  const std::vector<int> clean = run(-1);
  EXPECT_EQ(clean, (std::vector<int>{0, 10, 40, 70, 0}));
  for (int crash = 0; crash < 10; ++crash) {
    EXPECT_EQ(run(crash), clean) << "crash after decision " << crash;
  }
}

TEST(DecideTest, TimedPauseIsMeasuredFromTheRecordedStart) {
  RolloutSpec spec = ArticleSpec();
  RolloutStatus status = Started();
  status.phase = Phase::kPaused;
  status.current_step_index = 3;  // pause 30s
  status.canary_weight = 50;
  status.pause_started_at = kStart;
  // A restarted canaryd 25s later waits only the 5s left.
  EXPECT_EQ(Decide(spec, 1, status, kStart + absl::Seconds(25)).requeue_after,
            absl::Seconds(5));
  // One that was down past the end advances at once.
  Decision late = Decide(spec, 1, status, kStart + absl::Minutes(5));
  EXPECT_EQ(late.next.current_step_index, 4);
  EXPECT_EQ(late.requeue_after, absl::ZeroDuration());
}

// Every command in every phase: which are accepted, and what they leave.
struct CommandCase {
  Phase phase;
  int step;
  bool pause_started;
  bool paused_by_user;
  Command command;
  bool accepted;
};

class CommandTest : public testing::TestWithParam<CommandCase> {};

TEST_P(CommandTest, AcceptsOrRefusesWithoutChange) {
  const CommandCase& c = GetParam();
  RolloutSpec spec = ArticleSpec();
  RolloutStatus status = Started();
  status.phase = c.phase;
  status.current_step_index = c.step;
  status.canary_weight =
      c.phase == Phase::kHealthy || c.phase == Phase::kDegraded ? 0 : 20;
  if (c.pause_started) status.pause_started_at = kStart;
  status.pause_reason =
      c.paused_by_user ? PauseReason::kUser : PauseReason::kNone;
  auto next = ApplyCommand(spec, status, c.command);
  EXPECT_EQ(next.ok(), c.accepted)
      << CommandName(c.command) << " in " << PhaseName(c.phase) << ": "
      << next.status();
  if (!next.ok()) {
    EXPECT_TRUE(absl::IsFailedPrecondition(next.status()));
    EXPECT_NE(next.status().message().find(CommandName(c.command)),
              absl::string_view::npos);
    return;
  }
  EXPECT_FALSE(next->message.empty());
  switch (c.command) {
    case Command::kPromote:
      EXPECT_EQ(next->phase, Phase::kProgressing);
      EXPECT_FALSE(next->paused_by_user());
      EXPECT_EQ(next->current_step_index,
                c.pause_started ? c.step + 1 : c.step);
      break;
    case Command::kPromoteFull:
      EXPECT_EQ(next->current_step_index, 5);
      EXPECT_FALSE(next->paused_by_user());
      break;
    case Command::kAbort:
      EXPECT_EQ(next->phase, Phase::kDegraded);
      EXPECT_EQ(next->canary_weight, 0);
      break;
    case Command::kRetry:
      EXPECT_EQ(next->phase, Phase::kProgressing);
      EXPECT_EQ(next->current_step_index, 0);
      EXPECT_EQ(next->observed_generation, 1);
      break;
    case Command::kPause:
      EXPECT_TRUE(next->paused_by_user());
      EXPECT_EQ(next->phase, Phase::kPaused);
      EXPECT_EQ(next->current_step_index, c.step);
      break;
    case Command::kResume:
      EXPECT_FALSE(next->paused_by_user());
      EXPECT_EQ(next->current_step_index, c.step);
      break;
  }
}

std::vector<CommandCase> AllCommandCases() {
  std::vector<CommandCase> cases;
  const Command all[] = {Command::kPromote, Command::kPromoteFull,
                         Command::kAbort,   Command::kRetry,
                         Command::kPause,   Command::kResume};
  struct State {
    Phase phase;
    int step;
    bool pause_started;
    bool by_user;
  };
  const State states[] = {
      {Phase::kProgressing, 0, false, false},  // about to set weight
      {Phase::kPaused, 1, true, false},        // at the indefinite pause
      {Phase::kPaused, 3, true, false},        // in the timed pause
      {Phase::kPaused, 2, false, true},        // held by a user between steps
      {Phase::kPaused, 1, true, true},  // held by a user during a pause step
      {Phase::kHealthy, 5, false, false},
      {Phase::kDegraded, 2, false, false},
  };
  for (const State& s : states) {
    const bool finished =
        s.phase == Phase::kHealthy || s.phase == Phase::kDegraded;
    for (Command command : all) {
      bool accepted = false;
      switch (command) {
        case Command::kPromote:
          accepted = !finished && (s.pause_started || s.by_user);
          break;
        case Command::kPromoteFull:
        case Command::kAbort:
          accepted = !finished;
          break;
        case Command::kRetry:
          accepted = s.phase == Phase::kDegraded;
          break;
        case Command::kPause:
          accepted = !finished && !s.by_user;
          break;
        case Command::kResume:
          accepted = s.by_user;
          break;
      }
      cases.push_back(
          {s.phase, s.step, s.pause_started, s.by_user, command, accepted});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(EveryPhaseAndCommand, CommandTest,
                         testing::ValuesIn(AllCommandCases()));

TEST(CommandTest, ResumeDuringAPauseStepKeepsWaitingForThePause) {
  RolloutSpec spec = ArticleSpec();
  RolloutStatus status = Started();
  status.current_step_index = 1;
  status.canary_weight = 20;
  status.pause_started_at = kStart;
  status.pause_reason = PauseReason::kUser;
  status.phase = Phase::kPaused;
  RolloutStatus resumed = *ApplyCommand(spec, status, Command::kResume);
  Decision d = Decide(spec, 1, resumed, kStart + absl::Hours(1));
  EXPECT_EQ(d.next.phase, Phase::kPaused);
  EXPECT_EQ(d.next.current_step_index, 1);
}

TEST(CommandTest, RetryAfterAbortRunsFromTheFirstStep) {
  RolloutSpec spec = ArticleSpec();
  RolloutStatus status;
  RunUntilWaiting(spec, 1, status, kStart);
  status = *ApplyCommand(spec, status, Command::kAbort);
  EXPECT_EQ(Decide(spec, 1, status, kStart).canary_weight, 0);
  status = *ApplyCommand(spec, status, Command::kRetry);
  auto made = RunUntilWaiting(spec, 1, status, kStart);
  EXPECT_EQ(made.front().canary_weight, 20);
  EXPECT_EQ(status.current_step_index, 1);
}

TEST(DegradeTest, ReturnsTrafficToStableAndSaysWhy) {
  RolloutStatus status = Started();
  status.canary_weight = 50;
  status.phase = Phase::kPaused;
  status.pause_started_at = kStart;
  RolloutStatus degraded =
      Degrade(status, "VirtualService default/x not found");
  EXPECT_EQ(degraded.phase, Phase::kDegraded);
  EXPECT_EQ(degraded.canary_weight, 0);
  EXPECT_EQ(degraded.message, "VirtualService default/x not found");
}

}  // namespace
}  // namespace smartcanary
