// The state machine with analyses that hold a rollout: no data at the start,
// Inconclusive holds that keep measuring, outages under onError: pause, and
// progress deadlines. Driven the way the reconciler drives it, with a
// simulated clock and scripted measurements.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "controller/rollout_events.h"
#include "controller/state_machine.h"
#include "tests/unit/rollout_specs.h"

namespace smartcanary {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

Step Weight(int w) { return Step{Step::Kind::kSetWeight, w, std::nullopt, {}}; }
Step PauseFor(absl::Duration d) { return Step{Step::Kind::kPause, 0, d, {}}; }
Step AnalysisStep(OnError on_error = OnError::kRollback) {
  return Step{Step::Kind::kAnalysis, 0, std::nullopt,
              AnalysisRef{{{"ratio", false}}, {}, on_error}};
}

// rate() over [10s] on a Prometheus scraping every second: 11 s warm-up.
MetricSpec Ratio(int failure_limit = 1, int inconclusive_limit = 0,
                 int consecutive_error_limit = 4) {
  MetricSpec spec;
  spec.name = "ratio";
  spec.interval = absl::Seconds(5);
  spec.failure_limit = failure_limit;
  spec.inconclusive_limit = inconclusive_limit;
  spec.consecutive_error_limit = consecutive_error_limit;
  spec.scrape_interval = absl::Seconds(1);
  spec.query.mutable_prometheus()->set_query(
      "sum(rate(req{v=\"2\",code!=\"0\"}[10s])) / "
      "sum(rate(req{v=\"2\"}[10s]))");
  return spec;
}

// 20%, pause 60s, 50%, pause 60s, 100%; background analysis from step 1.
RolloutSpec Plan(OnError on_error = OnError::kRollback) {
  RolloutSpec spec =
      SubsetRouted({Weight(20), PauseFor(absl::Seconds(60)), Weight(50),
                    PauseFor(absl::Seconds(60)), Weight(100)});
  spec.background_analysis =
      BackgroundAnalysis{AnalysisRef{{{"ratio", false}}, {}, on_error}, 1};
  return spec;
}

MeasurementRecord Answer(MeasurementPhase phase, absl::Time at,
                         double value = 0.0) {
  MeasurementRecord record{phase, {value}, "", at};
  record.message = analysis::MeasurementPhaseName(phase);
  return record;
}
MeasurementRecord NoData(absl::Time at) {
  MeasurementRecord record{
      MeasurementPhase::kInconclusive, {}, "no data: empty vector", at};
  record.no_data = true;
  return record;
}

// The reconciler's loop over a simulated clock: decide, take the measurements
// asked for, record them, and sleep until the decision asks to look again.
struct Simulation {
  RolloutSpec spec;
  ActiveAnalysis analysis;
  std::function<MeasurementRecord(absl::Time)> answer;
  RolloutStatus status;
  absl::Time now = kT0;
  int traffic = 0;  // the canary weight last applied
  std::vector<RolloutEvent> events;
  std::vector<PauseReason> reasons;  // every hold seen, in order
  Decision last;

  Simulation(RolloutSpec s, std::vector<MetricSpec> background,
             std::function<MeasurementRecord(absl::Time)> a)
      : spec(std::move(s)), answer(std::move(a)) {
    analysis.background = std::move(background);
  }

  void Write(const RolloutStatus& next) {
    for (const RolloutEvent& e : EventsBetween(status, next))
      events.push_back(e);
    if (next.pause_reason != PauseReason::kNone &&
        (reasons.empty() || reasons.back() != next.pause_reason))
      reasons.push_back(next.pause_reason);
    status = next;
  }

  void RunUntil(absl::Time until) {
    for (int i = 0; i < 100000; ++i) {
      const int index = status.current_step_index;
      ActiveAnalysis active;
      if (index < static_cast<int>(spec.steps.size()) &&
          spec.steps[index].kind == Step::Kind::kAnalysis)
        active.step = analysis.background;  // same metric for step tests
      if (BackgroundActive(spec, status) && spec.background_analysis)
        active.background = analysis.background;
      if (step_only) active.background.clear();
      last = Decide(spec, 1, status, now, active);
      RolloutStatus next = last.next;
      for (const std::string& m : last.measure_step)
        next.step_run = Record(active.step, *next.step_run, m, answer(now));
      for (const std::string& m : last.measure_background) {
        next.background_run =
            Record(active.background, *next.background_run, m, answer(now));
      }
      if (!last.wants_measurements()) traffic = last.canary_weight;
      Write(next);
      if (last.wants_measurements() ||
          last.requeue_after == absl::ZeroDuration())
        continue;
      if (status.phase == Phase::kHealthy || status.phase == Phase::kDegraded)
        return;
      const absl::Time wake = last.requeue_after == absl::InfiniteDuration()
                                  ? absl::InfiniteFuture()
                                  : now + last.requeue_after;
      if (wake > until) {
        now = until;
        return;
      }
      now = wake;
    }
    ADD_FAILURE() << "the rollout never waited";
  }

  bool Saw(const std::string& kind, const std::string& part = "") const {
    for (const RolloutEvent& e : events) {
      if (e.kind == kind && e.text.find(part) != std::string::npos) return true;
    }
    return false;
  }
  const MetricRun& Background() const {
    return status.background_run->metrics[0];
  }
  bool step_only = false;
};

Simulation Start(RolloutSpec spec, std::vector<MetricSpec> metrics,
                 std::function<MeasurementRecord(absl::Time)> answer) {
  Simulation sim(std::move(spec), std::move(metrics), std::move(answer));
  sim.status.observed_generation = 1;
  sim.status.progress_at = kT0;
  return sim;
}

// The scenario: no data for the first seconds, then 12% errors.
TEST(NeverStrandTest, BadCanaryIsRolledBackWithNobodyActing) {
  Simulation sim = Start(Plan(), {Ratio()}, [](absl::Time at) {
    return at < kT0 + absl::Seconds(3)
               ? NoData(at)
               : Answer(MeasurementPhase::kFailed, at, 0.12);
  });
  sim.RunUntil(kT0 + absl::Hours(1));
  EXPECT_EQ(sim.status.phase, Phase::kDegraded);
  EXPECT_EQ(sim.traffic, 0);
  EXPECT_LE(sim.now, kT0 + absl::Seconds(10)) << "two failures 5 s apart";
  EXPECT_GE(sim.Background().pending, 1);
  EXPECT_EQ(sim.Background().inconclusive, 0);
  EXPECT_EQ(sim.Background().failed, 2);
  EXPECT_TRUE(sim.reasons.empty()) << "never held for a person";
  EXPECT_NE(sim.status.message.find("rolled back: background analysis"),
            std::string::npos)
      << sim.status.message;
}

TEST(NeverStrandTest, NoDataAfterTheWarmUpHoldsAndNeverPasses) {
  Simulation sim = Start(Plan(), {Ratio()}, NoData);
  sim.RunUntil(kT0 + absl::Hours(1));
  EXPECT_EQ(sim.status.phase, Phase::kPaused);
  EXPECT_EQ(sim.status.pause_reason, PauseReason::kInconclusive);
  EXPECT_EQ(sim.traffic, 20) << "traffic held at the canary's share";
  EXPECT_EQ(sim.status.current_step_index, 1);
  EXPECT_EQ(sim.Background().pending, 3) << "0, 5 and 10 s: within 11 s";
  EXPECT_GT(sim.Background().measured, 500) << "measured on all hour";
  EXPECT_TRUE(sim.Saw("paused", "background analysis inconclusive"));
  EXPECT_NE(sim.status.message.find("measuring on"), std::string::npos);
  bool advised = false;
  for (const std::string& w : sim.status.warnings)
    advised = advised || w.find("or vector(0)") != std::string::npos;
  EXPECT_TRUE(advised) << "the empty numerator is warned about";
  EXPECT_TRUE(sim.Saw("warning", "or vector(0)"));
}

TEST(NeverStrandTest, FailureWhileHeldForInconclusiveRollsBack) {
  Simulation sim =
      Start(Plan(), {Ratio(/*failure_limit=*/0)}, [](absl::Time at) {
        return at < kT0 + absl::Minutes(10)
                   ? NoData(at)
                   : Answer(MeasurementPhase::kFailed, at, 1.0);
      });
  sim.RunUntil(kT0 + absl::Minutes(9));
  ASSERT_EQ(sim.status.pause_reason, PauseReason::kInconclusive);
  sim.RunUntil(kT0 + absl::Hours(1));
  EXPECT_EQ(sim.status.phase, Phase::kDegraded);
  EXPECT_EQ(sim.traffic, 0);
  EXPECT_LE(sim.now, kT0 + absl::Minutes(10) + absl::Seconds(5));
}

TEST(NeverStrandTest, SuccessesWhileHeldAreShownAndResumeStartsAfresh) {
  Simulation sim = Start(Plan(), {Ratio()}, [](absl::Time at) {
    return at < kT0 + absl::Seconds(30)
               ? NoData(at)
               : Answer(MeasurementPhase::kSuccessful, at, 0.0);
  });
  sim.RunUntil(kT0 + absl::Minutes(5));
  ASSERT_EQ(sim.status.pause_reason, PauseReason::kInconclusive);
  EXPECT_GT(sim.Background().successful, 40) << "visible while held";
  EXPECT_EQ(sim.Background().recent.back().phase,
            MeasurementPhase::kSuccessful);
  auto resumed = ApplyCommand(sim.spec, sim.status, Command::kResume);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_FALSE(resumed->background_run.has_value())
      << "a fresh analysis, not the same verdict";
  sim.status = *resumed;
  sim.RunUntil(kT0 + absl::Hours(1));
  EXPECT_EQ(sim.status.phase, Phase::kHealthy) << sim.status.message;
}

TEST(NeverStrandTest, OutageUnderOnErrorPauseHoldsThenCarriesOnByItself) {
  auto answer = [](absl::Time at) {
    const bool down =
        at >= kT0 + absl::Seconds(10) && at < kT0 + absl::Seconds(100);
    return down ? Answer(MeasurementPhase::kError, at)
                : Answer(MeasurementPhase::kSuccessful, at);
  };
  Simulation sim = Start(Plan(OnError::kPause), {Ratio(1, 0, 1)}, answer);
  sim.RunUntil(kT0 + absl::Seconds(99));
  EXPECT_EQ(sim.status.phase, Phase::kPaused);
  EXPECT_EQ(sim.status.pause_reason, PauseReason::kOutage);
  EXPECT_EQ(sim.traffic, 20);
  EXPECT_EQ(sim.status.current_step_index, 1)
      << "the 60 s pause is over, but the held rollout does not advance";
  EXPECT_NE(sim.status.message.find("resumes by itself"), std::string::npos);
  EXPECT_TRUE(sim.Saw("paused", "onError: pause"));
  // Refused while the outage holds: it ends by itself, or by abort.
  auto resume = ApplyCommand(sim.spec, sim.status, Command::kResume);
  EXPECT_FALSE(resume.ok());
  EXPECT_NE(resume.status().message().find("resumes by itself"),
            std::string::npos);
  sim.RunUntil(kT0 + absl::Hours(1));
  EXPECT_EQ(sim.status.phase, Phase::kHealthy) << sim.status.message;
  EXPECT_TRUE(sim.Saw("resumed", "hold (Outage) ended"));
  EXPECT_EQ(sim.reasons, std::vector<PauseReason>{PauseReason::kOutage});
}

TEST(NeverStrandTest, OutageRollsBackByDefault) {
  Simulation sim = Start(Plan(), {Ratio(1, 0, 1)}, [](absl::Time at) {
    return Answer(MeasurementPhase::kError, at);
  });
  sim.RunUntil(kT0 + absl::Hours(1));
  EXPECT_EQ(sim.status.phase, Phase::kDegraded);
  EXPECT_NE(sim.status.message.find("consecutive errors"), std::string::npos);
}

TEST(NeverStrandTest, FailureDuringAnOutageHoldStillRollsBack) {
  Simulation sim =
      Start(Plan(OnError::kPause), {Ratio(0, 0, 1)}, [](absl::Time at) {
        return at < kT0 + absl::Seconds(50)
                   ? Answer(MeasurementPhase::kError, at)
                   : Answer(MeasurementPhase::kFailed, at, 0.5);
      });
  sim.RunUntil(kT0 + absl::Seconds(45));
  ASSERT_EQ(sim.status.pause_reason, PauseReason::kOutage);
  sim.RunUntil(kT0 + absl::Hours(1));
  EXPECT_EQ(sim.status.phase, Phase::kDegraded);
}

TEST(NeverStrandTest, StepAnalysisOutageAndInconclusiveHoldToo) {
  RolloutSpec spec = Plan();
  spec.background_analysis.reset();
  spec.steps = {Weight(20), AnalysisStep(OnError::kPause), Weight(100)};
  MetricSpec counted = Ratio(0, 0, 1);
  counted.count = 3;
  auto answer = [](absl::Time at) {
    return at < kT0 + absl::Seconds(30)
               ? Answer(MeasurementPhase::kError, at)
               : Answer(MeasurementPhase::kSuccessful, at);
  };
  Simulation sim = Start(spec, {counted}, answer);
  sim.step_only = true;
  sim.RunUntil(kT0 + absl::Seconds(25));
  EXPECT_EQ(sim.status.pause_reason, PauseReason::kOutage);
  EXPECT_EQ(sim.traffic, 20);
  sim.RunUntil(kT0 + absl::Hours(1));
  EXPECT_EQ(sim.status.phase, Phase::kHealthy) << sim.status.message;

  // No data past the warm-up: held Inconclusive, measured on, and a failure
  // rolls back; resume is refused (promote skips the step).
  Simulation held = Start(spec, {counted}, [](absl::Time at) {
    return at < kT0 + absl::Minutes(2)
               ? NoData(at)
               : Answer(MeasurementPhase::kFailed, at, 0.5);
  });
  held.step_only = true;
  held.RunUntil(kT0 + absl::Minutes(1));
  ASSERT_EQ(held.status.pause_reason, PauseReason::kInconclusive);
  EXPECT_EQ(held.status.phase, Phase::kPaused);
  auto resume = ApplyCommand(held.spec, held.status, Command::kResume);
  EXPECT_FALSE(resume.ok());
  EXPECT_NE(resume.status().message().find("promote"), std::string::npos);
  held.RunUntil(kT0 + absl::Hours(1));
  EXPECT_EQ(held.status.phase, Phase::kDegraded);
}

TEST(ProgressDeadlineTest, AStuckHoldIsAbortedToStable) {
  RolloutSpec spec = Plan();
  spec.progress_deadline = absl::Seconds(30);
  spec.progress_deadline_abort = true;
  Simulation sim = Start(spec, {Ratio()}, NoData);
  sim.RunUntil(kT0 + absl::Seconds(20));
  ASSERT_EQ(sim.status.pause_reason, PauseReason::kInconclusive);
  const absl::Time held_at = *sim.status.progress_at;
  EXPECT_GT(held_at, kT0) << "the clock starts when the hold begins";
  sim.RunUntil(kT0 + absl::Hours(1));
  EXPECT_EQ(sim.status.phase, Phase::kDegraded);
  EXPECT_EQ(sim.traffic, 0);
  EXPECT_GT(sim.now, held_at + absl::Seconds(30));
  EXPECT_LT(sim.now, held_at + absl::Seconds(31)) << "woken for the deadline";
  const RolloutCondition* c = sim.status.Condition(kProgressDeadlineExceeded);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->type, "Progressing");
  EXPECT_EQ(c->status, "False");
  EXPECT_NE(c->message.find("no progress for 30s"), std::string::npos)
      << c->message;
  EXPECT_NE(c->message.find("Inconclusive"), std::string::npos) << c->message;
  EXPECT_NE(sim.status.message.find("rolled back: progress deadline exceeded"),
            std::string::npos)
      << sim.status.message;
  EXPECT_TRUE(sim.Saw("progress-deadline"));
  EXPECT_TRUE(sim.Saw("rolled-back"));
}

TEST(ProgressDeadlineTest, WithoutAbortOnlyMarksAndProgressClearsTheMark) {
  RolloutSpec spec = Plan();
  spec.progress_deadline = absl::Seconds(30);
  Simulation sim = Start(spec, {Ratio()}, NoData);
  sim.RunUntil(kT0 + absl::Minutes(10));
  EXPECT_EQ(sim.status.phase, Phase::kPaused);
  EXPECT_EQ(sim.traffic, 20);
  ASSERT_NE(sim.status.Condition(kProgressDeadlineExceeded), nullptr);
  int marks = 0;
  for (const RolloutEvent& e : sim.events)
    marks += e.kind == "progress-deadline";
  EXPECT_EQ(marks, 1);
  auto resumed = ApplyCommand(sim.spec, sim.status, Command::kResume);
  ASSERT_TRUE(resumed.ok());
  sim.status = *resumed;
  sim.RunUntil(sim.now);
  EXPECT_EQ(sim.status.Condition(kProgressDeadlineExceeded), nullptr)
      << "resuming is progress";
}

TEST(ProgressDeadlineTest, UserPausesAndPauseStepsStopTheClock) {
  RolloutSpec spec = Plan();
  spec.background_analysis.reset();
  spec.steps = {Weight(20), PauseFor(absl::Minutes(10)), Weight(100)};
  spec.progress_deadline = absl::Seconds(30);
  spec.progress_deadline_abort = true;
  Simulation sim = Start(spec, {}, NoData);
  sim.RunUntil(kT0 + absl::Minutes(5));
  EXPECT_EQ(sim.status.phase, Phase::kPaused);
  sim.status = *ApplyCommand(spec, sim.status, Command::kPause);
  sim.RunUntil(kT0 + absl::Hours(2));
  EXPECT_EQ(sim.status.phase, Phase::kPaused) << sim.status.message;
  EXPECT_TRUE(sim.status.conditions.empty());
  sim.status = *ApplyCommand(spec, sim.status, Command::kResume);
  sim.RunUntil(kT0 + absl::Hours(3));
  EXPECT_EQ(sim.status.phase, Phase::kHealthy) << sim.status.message;
}

TEST(ProgressDeadlineTest, AStepAnalysisThatNeverEndsIsStuckProgressing) {
  RolloutSpec spec = Plan();
  spec.background_analysis.reset();
  spec.steps = {Weight(20), AnalysisStep(), Weight(100)};
  spec.progress_deadline = absl::Minutes(2);
  spec.progress_deadline_abort = true;
  // An interval and no count: it runs until it fails, i.e. forever here.
  Simulation sim = Start(spec, {Ratio()}, [](absl::Time at) {
    return Answer(MeasurementPhase::kSuccessful, at);
  });
  sim.step_only = true;
  sim.RunUntil(kT0 + absl::Hours(1));
  EXPECT_EQ(sim.status.phase, Phase::kDegraded);
  EXPECT_NE(sim.status.message.find("Progressing"), std::string::npos)
      << sim.status.message;
}

TEST(WarmUpAnchorTest, RunsFromTheCanarysTrafficNotBefore) {
  RolloutSpec spec = Plan();
  spec.background_analysis->starting_step = 0;
  spec.steps = {PauseFor(absl::Seconds(30)), Weight(20),
                PauseFor(absl::Minutes(10)), Weight(100)};
  Simulation sim = Start(spec, {Ratio(1, 0)}, NoData);
  sim.RunUntil(kT0 + absl::Seconds(29));
  EXPECT_EQ(sim.status.pause_reason, PauseReason::kNone)
      << "no traffic yet: no data is only pending";
  EXPECT_EQ(sim.Background().inconclusive, 0);
  EXPECT_GE(sim.Background().pending, 5);
  sim.RunUntil(kT0 + absl::Seconds(40));
  EXPECT_EQ(sim.status.background_run->warm_up_from, kT0 + absl::Seconds(30));
  EXPECT_EQ(sim.status.pause_reason, PauseReason::kNone);
  sim.RunUntil(kT0 + absl::Seconds(50));
  EXPECT_EQ(sim.status.pause_reason, PauseReason::kInconclusive)
      << "11 s after the canary took traffic";
}

TEST(HoldCommandTest, PauseOverAHoldIsAUsersAndResumeHandsBack) {
  Simulation sim = Start(Plan(), {Ratio()}, NoData);
  sim.RunUntil(kT0 + absl::Minutes(1));
  ASSERT_EQ(sim.status.pause_reason, PauseReason::kInconclusive);
  auto paused = ApplyCommand(sim.spec, sim.status, Command::kPause);
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(paused->pause_reason, PauseReason::kUser);
  EXPECT_FALSE(ApplyCommand(sim.spec, *paused, Command::kPause).ok());
  auto promoted = ApplyCommand(sim.spec, sim.status, Command::kPromote);
  ASSERT_TRUE(promoted.ok()) << "promote continues past an inconclusive hold";
  EXPECT_EQ(promoted->pause_reason, PauseReason::kNone);
}

TEST(HoldStatusTest, ReasonsConditionsAndWarningsRoundTripThroughJson) {
  RolloutStatus status;
  status.phase = Phase::kPaused;
  status.pause_reason = PauseReason::kOutage;
  status.progress_at = kT0;
  status.conditions.push_back(
      {"Progressing", "False", kProgressDeadlineExceeded, "stuck", kT0});
  status.warnings = {"spec.analysis: metric \"m\": advice"};
  nlohmann::json written = RolloutStatusToJson(status);
  EXPECT_EQ(written["pauseReason"], "Outage");
  EXPECT_EQ(written["pausedByUser"], false);
  EXPECT_EQ(*ParseRolloutStatus(written), status);
  // What an older canaryd wrote.
  auto old = ParseRolloutStatus({{"phase", "Paused"}, {"pausedByUser", true}});
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->pause_reason, PauseReason::kUser);
}

}  // namespace
}  // namespace smartcanary
