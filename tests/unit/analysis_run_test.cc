#include "controller/analysis/analysis_run.h"

#include <gtest/gtest.h>

#include <cmath>

#include "controller/rollout_events.h"
#include "controller/state_machine.h"

namespace smartcanary {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

MetricSpec Metric(const std::string& name, absl::Duration interval, int count,
                  int failure_limit = 0, int inconclusive_limit = 0,
                  int consecutive_error_limit = 4) {
  MetricSpec spec;
  spec.name = name;
  spec.interval = interval;
  spec.count = count;
  spec.failure_limit = failure_limit;
  spec.inconclusive_limit = inconclusive_limit;
  spec.consecutive_error_limit = consecutive_error_limit;
  return spec;
}

MeasurementRecord M(MeasurementPhase phase, absl::Time at,
                    double value = 0.99) {
  return {
      phase, {value}, std::string(analysis::MeasurementPhaseName(phase)), at};
}

TEST(AnalysisRunTest, CountOfSuccessesCompletesTheRun) {
  std::vector<MetricSpec> specs = {
      Metric("success-rate", absl::Seconds(10), 3)};
  AnalysisRun run = StartRun(2, specs, kT0);
  EXPECT_EQ(Due(specs, run, kT0).metrics,
            std::vector<std::string>{"success-rate"});
  run =
      Record(specs, run, "success-rate", M(MeasurementPhase::kSuccessful, kT0));
  DueMeasurements due = Due(specs, run, kT0 + absl::Seconds(4));
  EXPECT_TRUE(due.metrics.empty());
  EXPECT_EQ(due.next_in, absl::Seconds(6));
  run = Record(specs, run, "success-rate",
               M(MeasurementPhase::kSuccessful, kT0 + absl::Seconds(10)));
  EXPECT_EQ(run.phase, RunPhase::kRunning);
  run = Record(specs, run, "success-rate",
               M(MeasurementPhase::kSuccessful, kT0 + absl::Seconds(20)));
  EXPECT_EQ(run.phase, RunPhase::kSuccessful);
  EXPECT_TRUE(Due(specs, run, kT0 + absl::Hours(1)).metrics.empty());
}

TEST(AnalysisRunTest, FailureLimitCountsTotalNotConsecutiveFailures) {
  std::vector<MetricSpec> specs = {
      Metric("m", absl::Seconds(5), 10, /*failure_limit=*/2)};
  AnalysisRun run = StartRun(0, specs, kT0);
  for (MeasurementPhase p :
       {MeasurementPhase::kFailed, MeasurementPhase::kSuccessful,
        MeasurementPhase::kFailed, MeasurementPhase::kSuccessful}) {
    run = Record(specs, run, "m", M(p, kT0));
  }
  EXPECT_EQ(run.phase, RunPhase::kRunning)
      << "2 failures are within failureLimit 2";
  run = Record(specs, run, "m", M(MeasurementPhase::kFailed, kT0, 0.8));
  EXPECT_EQ(run.phase, RunPhase::kFailed);
  EXPECT_NE(run.message.find("metric \"m\" failed (3 failed > failureLimit 2)"),
            std::string::npos)
      << run.message;
}

TEST(AnalysisRunTest, ErrorsNeverCompleteAMetric) {
  std::vector<MetricSpec> specs = {
      Metric("m", absl::Seconds(5), 2, 0, 0, /*errors=*/4)};
  AnalysisRun run = StartRun(0, specs, kT0);
  for (int i = 0; i < 4; ++i)
    run = Record(specs, run, "m", M(MeasurementPhase::kError, kT0));
  EXPECT_EQ(run.phase, RunPhase::kRunning)
      << "4 errors reach count 2 but prove nothing";
  run = Record(specs, run, "m", M(MeasurementPhase::kError, kT0));
  EXPECT_EQ(run.phase, RunPhase::kError);
  EXPECT_EQ(Conclude(StartRun(-1, specs, kT0)).phase, RunPhase::kInconclusive)
      << "a background run with no success does not conclude as a pass";
}

TEST(AnalysisRunTest, AtCountTheLatestVerdictDecides) {
  std::vector<MetricSpec> specs = {
      Metric("m", absl::Seconds(5), 2, 0, /*inconclusive=*/1)};
  AnalysisRun run = StartRun(0, specs, kT0);
  run = Record(specs, run, "m", M(MeasurementPhase::kSuccessful, kT0));
  run = Record(specs, run, "m", M(MeasurementPhase::kInconclusive, kT0));
  EXPECT_EQ(run.phase, RunPhase::kInconclusive);
}

TEST(AnalysisRunTest, ConsecutiveErrorsResetOnAnyOtherPhase) {
  std::vector<MetricSpec> specs = {
      Metric("m", absl::Seconds(5), 0, 0, 0, /*errors=*/2)};
  AnalysisRun run = StartRun(-1, specs, kT0);
  run = Record(specs, run, "m", M(MeasurementPhase::kError, kT0));
  run = Record(specs, run, "m", M(MeasurementPhase::kError, kT0));
  run = Record(specs, run, "m", M(MeasurementPhase::kSuccessful, kT0));
  run = Record(specs, run, "m", M(MeasurementPhase::kError, kT0));
  run = Record(specs, run, "m", M(MeasurementPhase::kError, kT0));
  EXPECT_EQ(run.phase, RunPhase::kRunning);
  run = Record(specs, run, "m", M(MeasurementPhase::kError, kT0));
  EXPECT_EQ(run.phase, RunPhase::kError);
}

TEST(AnalysisRunTest, InconclusiveBeyondItsLimitAndWorstMetricWins) {
  std::vector<MetricSpec> specs = {
      Metric("a", absl::Seconds(5), 5, 0, /*inconclusive=*/1),
      Metric("b", absl::Seconds(5), 5)};
  AnalysisRun run = StartRun(0, specs, kT0);
  run = Record(specs, run, "a", M(MeasurementPhase::kInconclusive, kT0));
  EXPECT_EQ(run.phase, RunPhase::kRunning);
  run = Record(specs, run, "a", M(MeasurementPhase::kInconclusive, kT0));
  EXPECT_EQ(run.phase, RunPhase::kInconclusive);
  run = Record(specs, run, "b", M(MeasurementPhase::kFailed, kT0));
  EXPECT_EQ(run.phase, RunPhase::kFailed) << "failed outranks inconclusive";
}

TEST(AnalysisRunTest, NoIntervalMeansOneMeasurementAndInitialDelayIsHonoured) {
  MetricSpec once = Metric("once", absl::ZeroDuration(), 0);
  once.initial_delay = absl::Seconds(30);
  std::vector<MetricSpec> specs = {once};
  AnalysisRun run = StartRun(0, specs, kT0);
  EXPECT_EQ(Due(specs, run, kT0).next_in, absl::Seconds(30));
  run = Record(specs, run, "once",
               M(MeasurementPhase::kSuccessful, kT0 + absl::Seconds(30)));
  EXPECT_EQ(run.phase, RunPhase::kSuccessful);
}

TEST(AnalysisRunTest, KeepsTheLastTenAndRoundTripsWithNaN) {
  std::vector<MetricSpec> specs = {Metric("m", absl::Seconds(1), 0)};
  AnalysisRun run = StartRun(-1, specs, kT0);
  for (int i = 0; i < 15; ++i) {
    run = Record(specs, run, "m",
                 M(MeasurementPhase::kInconclusive, kT0 + absl::Seconds(i),
                   std::nan("")));
  }
  ASSERT_EQ(run.metrics[0].recent.size(), 10u);
  EXPECT_EQ(run.metrics[0].measured, 15);
  auto back = AnalysisRunFromJson(AnalysisRunToJson(run));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, run);
}

// The rollout's state machine with analysis.
RolloutSpec SpecWithAnalysisStep() {
  RolloutSpec spec;
  spec.traffic_routing.virtual_service = "vs";
  spec.traffic_routing.destination_rule = "dr";
  spec.traffic_routing.stable_subset = "stable";
  spec.traffic_routing.canary_subset = "canary";
  spec.canary_labels = {{"version", "v2"}};
  Step analysis_step{Step::Kind::kAnalysis, 0, std::nullopt,
                     AnalysisRef{{{"success-rate", true}}, {}}};
  spec.steps = {Step{Step::Kind::kSetWeight, 20, std::nullopt, {}},
                analysis_step,
                Step{Step::Kind::kSetWeight, 60, std::nullopt, {}}};
  return spec;
}

RolloutStatus AtStep(int index, int weight) {
  RolloutStatus status;
  status.observed_generation = 1;
  status.current_step_index = index;
  status.canary_weight = weight;
  return status;
}

TEST(DecideWithAnalysisTest, AnalysisStepMeasuresThenAdvancesOnSuccess) {
  RolloutSpec spec = SpecWithAnalysisStep();
  ActiveAnalysis active{{Metric("sr", absl::Seconds(10), 2)}, {}};
  RolloutStatus status = AtStep(1, 20);
  Decision start = Decide(spec, 1, status, kT0, active);
  ASSERT_TRUE(start.next.step_run.has_value());
  EXPECT_EQ(start.requeue_after, absl::ZeroDuration());
  Decision measure = Decide(spec, 1, start.next, kT0, active);
  EXPECT_EQ(measure.measure_step, std::vector<std::string>{"sr"});
  EXPECT_EQ(measure.canary_weight, 20);
  RolloutStatus next = measure.next;
  next.step_run = Record(active.step, *next.step_run, "sr",
                         M(MeasurementPhase::kSuccessful, kT0));
  Decision wait = Decide(spec, 1, next, kT0, active);
  EXPECT_FALSE(wait.wants_measurements());
  EXPECT_EQ(wait.requeue_after, absl::Seconds(10));
  next.step_run =
      Record(active.step, *next.step_run, "sr",
             M(MeasurementPhase::kSuccessful, kT0 + absl::Seconds(10)));
  Decision advance = Decide(spec, 1, next, kT0 + absl::Seconds(10), active);
  EXPECT_EQ(advance.next.current_step_index, 2);
}

TEST(DecideWithAnalysisTest, FailedStepAnalysisRollsBackAtOnce) {
  RolloutSpec spec = SpecWithAnalysisStep();
  ActiveAnalysis active{{Metric("sr", absl::Seconds(10), 5)}, {}};
  RolloutStatus status = AtStep(1, 20);
  status.step_run = StartRun(1, active.step, kT0);
  status.step_run = Record(active.step, *status.step_run, "sr",
                           M(MeasurementPhase::kFailed, kT0, 0.9));
  Decision d = Decide(spec, 1, status, kT0, active);
  EXPECT_EQ(d.next.phase, Phase::kDegraded);
  EXPECT_EQ(d.canary_weight, 0);
  EXPECT_NE(d.next.message.find(
                "rolled back: step 2/3 analysis: metric \"sr\" failed"),
            std::string::npos)
      << d.next.message;
}

TEST(DecideWithAnalysisTest, InconclusiveStepPausesAndPromoteSkipsIt) {
  RolloutSpec spec = SpecWithAnalysisStep();
  ActiveAnalysis active{{Metric("sr", absl::Seconds(10), 5)}, {}};
  RolloutStatus status = AtStep(1, 20);
  status.step_run = StartRun(1, active.step, kT0);
  status.step_run =
      Record(active.step, *status.step_run, "sr",
             M(MeasurementPhase::kInconclusive, kT0, std::nan("")));
  Decision d = Decide(spec, 1, status, kT0, active);
  EXPECT_EQ(d.next.phase, Phase::kPaused);
  EXPECT_EQ(d.canary_weight, 20);
  auto promoted = ApplyCommand(spec, d.next, Command::kPromote);
  ASSERT_TRUE(promoted.ok()) << promoted.status();
  EXPECT_EQ(promoted->current_step_index, 2);
}

TEST(DecideWithAnalysisTest, BackgroundFailureRollsBackEvenDuringAUserPause) {
  RolloutSpec spec = SpecWithAnalysisStep();
  spec.background_analysis =
      BackgroundAnalysis{AnalysisRef{{{"errors", false}}, {}}, 1};
  ActiveAnalysis active{{}, {Metric("errors", absl::Seconds(5), 0)}};
  RolloutStatus status = AtStep(2, 20);
  status.pause_reason = PauseReason::kUser;
  status.phase = Phase::kPaused;
  Decision start = Decide(spec, 1, status, kT0, active);
  ASSERT_TRUE(start.next.background_run.has_value());
  Decision measure = Decide(spec, 1, start.next, kT0, active);
  EXPECT_EQ(measure.measure_background, std::vector<std::string>{"errors"});
  RolloutStatus next = measure.next;
  next.background_run =
      Record(active.background, *next.background_run, "errors",
             M(MeasurementPhase::kFailed, kT0, 0.2));
  Decision rollback = Decide(spec, 1, next, kT0, active);
  EXPECT_EQ(rollback.next.phase, Phase::kDegraded);
  EXPECT_EQ(rollback.canary_weight, 0);
  EXPECT_EQ(rollback.next.weight_history.back().canary_weight, 0);
}

TEST(DecideWithAnalysisTest, BackgroundNotStartedBeforeItsStartingStep) {
  RolloutSpec spec = SpecWithAnalysisStep();
  spec.background_analysis =
      BackgroundAnalysis{AnalysisRef{{{"errors", false}}, {}}, 2};
  RolloutStatus status = AtStep(0, 0);
  EXPECT_FALSE(BackgroundActive(spec, status));
  status.current_step_index = 2;
  EXPECT_TRUE(BackgroundActive(spec, status));
}

TEST(DecideWithAnalysisTest, WeightTimelineRecordsEveryChange) {
  RolloutSpec spec = SpecWithAnalysisStep();
  RolloutStatus status;
  Decision d = Decide(spec, 1, status, kT0, {});
  d = Decide(spec, 1, d.next, kT0 + absl::Seconds(1), {});
  ASSERT_EQ(d.next.weight_history.size(), 2u);
  EXPECT_EQ(d.next.weight_history[0], (WeightChange{kT0, 0}));
  EXPECT_EQ(d.next.weight_history[1],
            (WeightChange{kT0 + absl::Seconds(1), 20}));
}

TEST(RolloutEventsTest, TransitionsBecomeAnnotations) {
  RolloutStatus before = AtStep(1, 20);
  RolloutStatus after = before;
  after.canary_weight = 50;
  auto events = EventsBetween(before, after);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0],
            (RolloutEvent{"weight", "canary weight 20 → 50 (stable 50)"}));

  std::vector<MetricSpec> specs = {Metric("sr", absl::Seconds(5), 3)};
  before.step_run = StartRun(1, specs, kT0);
  after = before;
  after.step_run = Record(specs, *after.step_run, "sr",
                          M(MeasurementPhase::kFailed, kT0, 0.5));
  after =
      Degrade(after, "rolled back: step 2/3 analysis: metric \"sr\" failed");
  events = EventsBetween(before, after);
  std::vector<std::string> kinds;
  for (const auto& e : events) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"analysis", "analysis", "weight",
                                             "rolled-back"}));
  EXPECT_NE(events[1].text.find("sr Failed (✔0 ✖1 ?0 ⚠0)"), std::string::npos)
      << events[1].text;

  auto promoted = EventsBetween(before, before, Command::kPromote);
  ASSERT_EQ(promoted.size(), 1u);
  EXPECT_EQ(promoted[0].kind, "promoted");
}

}  // namespace
}  // namespace smartcanary
