#include "controller/analysis/analysis_run.h"

#include <gtest/gtest.h>

#include <cmath>

#include "controller/rollout_events.h"
#include "controller/state_machine.h"
#include "tests/unit/rollout_specs.h"

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

// A threshold metric over rate(...[10s]) on a Prometheus scraping every
// second: its warm-up is 11 s.
MetricSpec RateMetric(absl::Duration interval, int count = 0,
                      int inconclusive_limit = 0) {
  MetricSpec spec = Metric("ratio", interval, count, 0, inconclusive_limit);
  spec.query.mutable_prometheus()->set_query(
      "sum(rate(req{code=\"0\"}[10s])) / sum(rate(req[10s]))");
  spec.scrape_interval = absl::Seconds(1);
  return spec;
}

MeasurementRecord NoData(absl::Time at) {
  MeasurementRecord record{MeasurementPhase::kInconclusive,
                           {},
                           "no data: the query returned an empty vector",
                           at};
  record.no_data = true;
  return record;
}

TEST(WarmUpTest, IsTheLongestRangePlusOneScrapeIntervalOrTheDefault) {
  EXPECT_EQ(RateMetric(absl::Seconds(5)).WarmUp(), absl::Seconds(11));
  MetricSpec spec = RateMetric(absl::Seconds(5));
  spec.query.mutable_prometheus()->set_query(
      "sum(rate(a[2m])) / sum(rate(b[30s])) > bool avg_over_time(c[1h:1m])");
  spec.scrape_interval.reset();
  EXPECT_EQ(spec.WarmUp(), absl::Hours(1) + kDefaultScrapeInterval);
  spec.query.mutable_prometheus()->set_query("up");
  EXPECT_EQ(spec.WarmUp(), absl::Seconds(30)) << "no range: one scrape";
  spec.query.mutable_comparative()->set_resolution_seconds(5);
  spec.scrape_interval = absl::Seconds(15);
  EXPECT_EQ(spec.WarmUp(), absl::Seconds(20)) << "comparative: resolution";
}

TEST(WarmUpTest, NoDataWithinTheWarmUpIsPendingAndCountsTowardNoLimit) {
  std::vector<MetricSpec> specs = {RateMetric(absl::Seconds(5))};
  AnalysisRun run = StartRun(-1, specs, kT0);
  for (int s : {0, 5, 10}) {
    run = Record(specs, run, "ratio", NoData(kT0 + absl::Seconds(s)));
    EXPECT_EQ(run.phase, RunPhase::kRunning) << "at " << s << "s";
  }
  const MetricRun& m = run.metrics[0];
  EXPECT_EQ(m.pending, 3);
  EXPECT_EQ(m.inconclusive, 0);
  EXPECT_EQ(m.measured, 3);
  EXPECT_TRUE(m.recent.back().pending);
  EXPECT_STREQ(RecordPhaseName(m.recent.back()), "Pending");
  EXPECT_NE(m.recent.back().message.find("pending: warm-up until"),
            std::string::npos)
      << m.recent.back().message;
  EXPECT_NE(m.recent.back().message.find("no data: the query returned"),
            std::string::npos);
  // After the warm-up no data is Inconclusive, never a pass.
  run = Record(specs, run, "ratio", NoData(kT0 + absl::Seconds(11)));
  EXPECT_EQ(run.phase, RunPhase::kInconclusive);
  EXPECT_EQ(run.metrics[0].inconclusive, 1);
  EXPECT_FALSE(run.metrics[0].recent.back().pending);
}

TEST(WarmUpTest, RunsFromWhenTheCanaryTookTraffic) {
  std::vector<MetricSpec> specs = {RateMetric(absl::Seconds(5))};
  AnalysisRun run = StartRun(-1, specs, kT0);
  run.warm_up_from = kT0 + absl::Minutes(5);
  run = Record(specs, run, "ratio", NoData(kT0 + absl::Seconds(310)));
  EXPECT_EQ(run.metrics[0].pending, 1);
  run = Record(specs, run, "ratio", NoData(kT0 + absl::Seconds(311)));
  EXPECT_EQ(run.metrics[0].inconclusive, 1);
}

TEST(WarmUpTest, OnlyNoDataIsPending) {
  std::vector<MetricSpec> specs = {RateMetric(absl::Seconds(5), 0, 5)};
  AnalysisRun run = StartRun(-1, specs, kT0);
  // Neither condition true: Inconclusive with values, counted.
  run = Record(specs, run, "ratio", M(MeasurementPhase::kInconclusive, kT0));
  run = Record(specs, run, "ratio", M(MeasurementPhase::kFailed, kT0, 0.8));
  run = Record(specs, run, "ratio", M(MeasurementPhase::kError, kT0));
  const MetricRun& m = run.metrics[0];
  EXPECT_EQ(m.pending, 0);
  EXPECT_EQ(m.inconclusive, 1);
  EXPECT_EQ(m.failed, 1);
  EXPECT_EQ(m.errors, 1);
  EXPECT_EQ(run.phase, RunPhase::kFailed) << "a failure is a verdict at once";
}

TEST(WarmUpTest, PendingNeverCompletesACountAndIsMeasuredAgainAfterIt) {
  std::vector<MetricSpec> specs = {RateMetric(absl::ZeroDuration(), 1)};
  AnalysisRun run = StartRun(1, specs, kT0);
  run = Record(specs, run, "ratio", NoData(kT0));
  EXPECT_EQ(run.phase, RunPhase::kRunning) << "a pending answer is no verdict";
  DueMeasurements due = Due(specs, run, kT0 + absl::Seconds(3));
  EXPECT_TRUE(due.metrics.empty());
  EXPECT_EQ(due.next_in, absl::Seconds(8)) << "once the 11 s warm-up is over";
  EXPECT_EQ(Due(specs, run, kT0 + absl::Seconds(11)).metrics.size(), 1u);
  run = Record(specs, run, "ratio",
               M(MeasurementPhase::kSuccessful, kT0 + absl::Seconds(11)));
  EXPECT_EQ(run.phase, RunPhase::kSuccessful);

  // A long interval is cut short by the warm-up's end, once.
  specs = {RateMetric(absl::Minutes(5))};
  run = StartRun(-1, specs, kT0);
  run = Record(specs, run, "ratio", NoData(kT0));
  EXPECT_EQ(Due(specs, run, kT0).next_in, absl::Seconds(11));
  run = Record(specs, run, "ratio",
               M(MeasurementPhase::kSuccessful, kT0 + absl::Seconds(11)));
  EXPECT_EQ(Due(specs, run, kT0 + absl::Seconds(11)).next_in, absl::Minutes(5));
}

TEST(WarmUpTest, AtCountThePendingAreNotTheLatestVerdict) {
  std::vector<MetricSpec> specs = {RateMetric(absl::Seconds(5), 2, 1)};
  AnalysisRun run = StartRun(1, specs, kT0);
  run = Record(specs, run, "ratio", M(MeasurementPhase::kSuccessful, kT0));
  run = Record(specs, run, "ratio", NoData(kT0 + absl::Seconds(1)));
  EXPECT_EQ(run.phase, RunPhase::kRunning);
  run = Record(specs, run, "ratio",
               M(MeasurementPhase::kSuccessful, kT0 + absl::Seconds(5)));
  EXPECT_EQ(run.phase, RunPhase::kSuccessful);
}

TEST(AnalysisRunTest, HeldRunsKeepMeasuringAndAnOutageEndsOnASuccess) {
  std::vector<MetricSpec> specs = {
      Metric("m", absl::Seconds(5), 0, 0, 0, /*errors=*/1)};
  AnalysisRun run = StartRun(-1, specs, kT0);
  run = Record(specs, run, "m", M(MeasurementPhase::kError, kT0));
  run = Record(specs, run, "m", M(MeasurementPhase::kError, kT0));
  ASSERT_EQ(run.phase, RunPhase::kError);
  EXPECT_EQ(Due(specs, run, kT0 + absl::Seconds(5)).metrics.size(), 1u)
      << "an erring run is measured on";
  run = Record(specs, run, "m",
               M(MeasurementPhase::kSuccessful, kT0 + absl::Seconds(5)));
  EXPECT_EQ(run.phase, RunPhase::kRunning);
  EXPECT_EQ(run.metrics[0].consecutive_errors, 0);

  run = Record(specs, run, "m", M(MeasurementPhase::kInconclusive, kT0));
  ASSERT_EQ(run.phase, RunPhase::kInconclusive);
  EXPECT_EQ(Due(specs, run, kT0 + absl::Hours(1)).metrics.size(), 1u)
      << "an inconclusive run is measured on";
  run = Record(specs, run, "m", M(MeasurementPhase::kSuccessful, kT0));
  EXPECT_EQ(run.phase, RunPhase::kInconclusive)
      << "past inconclusiveLimit stays Inconclusive: a person decides";
  run = Record(specs, run, "m", M(MeasurementPhase::kFailed, kT0, 0.5));
  EXPECT_EQ(run.phase, RunPhase::kFailed) << "but a failure still fails it";
  EXPECT_TRUE(Due(specs, run, kT0 + absl::Hours(1)).metrics.empty());
}

TEST(AnalysisRunTest, PendingAndNoDataRoundTripThroughJson) {
  std::vector<MetricSpec> specs = {RateMetric(absl::Seconds(5))};
  AnalysisRun run = StartRun(-1, specs, kT0);
  run.warm_up_from = kT0 + absl::Seconds(2);
  run = Record(specs, run, "ratio", NoData(kT0 + absl::Seconds(3)));
  run = Record(specs, run, "ratio", NoData(kT0 + absl::Seconds(30)));
  nlohmann::json written = AnalysisRunToJson(run);
  EXPECT_EQ(written["metrics"][0]["measurements"][0]["phase"], "Pending");
  EXPECT_EQ(written["metrics"][0]["measurements"][1]["phase"], "Inconclusive");
  EXPECT_EQ(written["metrics"][0]["measurements"][1]["noData"], true);
  EXPECT_EQ(written["metrics"][0]["pending"], 1);
  auto back = AnalysisRunFromJson(written);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, run);
}

// The rollout's state machine with analysis.
RolloutSpec SpecWithAnalysisStep() {
  Step analysis_step{Step::Kind::kAnalysis, 0, std::nullopt,
                     AnalysisRef{{{"success-rate", true}}, {}}};
  return SubsetRouted({Step{Step::Kind::kSetWeight, 20, std::nullopt, {}},
                       analysis_step,
                       Step{Step::Kind::kSetWeight, 60, std::nullopt, {}}});
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
