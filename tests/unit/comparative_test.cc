#include "analysis/comparative.h"

#include <gtest/gtest.h>

#include "controller/analysis/analysis_spec.h"
#include "controller/state_machine.h"
#include "nlohmann/json.hpp"

namespace smartcanary::analysis {
namespace {

v1::ComparativeProvider Preset(const std::string& event) {
  v1::ComparativeProvider p;
  p.mutable_istio()->set_service("rpc-server");
  (*p.mutable_istio()->mutable_canary())["destination_canonical_revision"] =
      "{{args.canary}}";
  (*p.mutable_istio()->mutable_baseline())["destination_canonical_revision"] =
      "v1";
  p.mutable_istio()->set_event(event);
  p.mutable_istio()->set_latency_objective_ms(250);
  return p;
}

TEST(ComparativeTest, IstioPresetQueriesCompareArmsAndUseBucketsForLatency) {
  auto grpc =
      QueriesFor(*SubstituteArgs(Preset("grpc-errors"), {{"canary", "v2"}}));
  EXPECT_EQ(
      grpc.canary_events,
      "sum(istio_requests_total{reporter=\"destination\",destination_service_"
      "name=\"rpc-server\","
      "destination_canonical_revision=\"v2\",grpc_response_status!~\"0|\"})");
  EXPECT_EQ(grpc.baseline_requests,
            "sum(istio_requests_total{reporter=\"destination\",destination_"
            "service_name=\"rpc-server\","
            "destination_canonical_revision=\"v1\"})");
  auto http =
      QueriesFor(*SubstituteArgs(Preset("http-5xx"), {{"canary", "v2"}}));
  EXPECT_NE(http.canary_events.find("response_code=~\"5..\""),
            std::string::npos);
  auto slow =
      QueriesFor(*SubstituteArgs(Preset("slower-than"), {{"canary", "v2"}}));
  EXPECT_NE(slow.canary_events.find("_count"), std::string::npos);
  EXPECT_NE(slow.canary_events.find(
                "- sum(istio_request_duration_milliseconds_bucket{"),
            std::string::npos);
  EXPECT_NE(slow.canary_events.find("le=\"250\""), std::string::npos);
  EXPECT_EQ(slow.canary_events.find("histogram_quantile"), std::string::npos);
  EXPECT_FALSE(SubstituteArgs(Preset("grpc-errors"), {}).ok()) << "unknown arg";
}

TEST(ComparativeTest, ArgsCannotAddMatchersOrOperatorsToTheQuery) {
  // A rollout's arg that tries to close the string and widen the selector.
  auto queries = QueriesFor(*SubstituteArgs(
      Preset("grpc-errors"), {{"canary", "v2\"} or vector(1) or {a=\"\\\n"}}));
  EXPECT_NE(queries.canary_requests.find(
                "destination_canonical_revision=\"v2\\\"} or vector(1) or "
                "{a=\\\"\\\\\\n\"}"),
            std::string::npos)
      << queries.canary_requests;
  EXPECT_EQ(queries.canary_requests.find('\n'), std::string::npos);
}

TEST(ComparativeTest,
     IntervalsFromCountersHandleResetsMissingSeriesAndWeights) {
  const absl::Time start = absl::FromUnixSeconds(1000);
  CounterSamples canary_requests = {
      {1000, 100}, {1005, 110}, {1010, 5}};    // reset at 1010
  CounterSamples canary_events = {{1010, 2}};  // born after start: all new
  CounterSamples baseline_requests = {{1000, 1000}, {1005, 1040}, {1010, 1080}};
  CounterSamples baseline_events;  // absent: zero events
  const std::vector<std::pair<absl::Time, int>> weights = {
      {absl::FromUnixSeconds(990), 20}, {absl::FromUnixSeconds(1007), 50}};
  auto intervals =
      ToIntervals(canary_events, canary_requests, baseline_events,
                  baseline_requests, weights, start, absl::Seconds(5), 2);
  ASSERT_EQ(intervals.size(), 2u);
  EXPECT_EQ(intervals[0].canary_requests, 10);
  EXPECT_EQ(intervals[1].canary_requests, 5);
  EXPECT_EQ(intervals[1].canary_events, 2);
  EXPECT_EQ(intervals[0].baseline_events, 0);
  EXPECT_DOUBLE_EQ(intervals[0].configured_canary_share, 0.2);
  EXPECT_DOUBLE_EQ(intervals[1].configured_canary_share,
                   (2 * 0.2 + 3 * 0.5) / 5);
}

std::vector<stats::IntervalCounts> Steady(int n, double base_req,
                                          double can_req, double base_ev,
                                          double can_ev, double share) {
  return std::vector<stats::IntervalCounts>(
      n, stats::IntervalCounts{base_req, can_req, base_ev, can_ev, share});
}

TEST(ComparativeTest, CustomCountersStayCustomAfterArgs) {
  v1::ComparativeProvider provider;
  provider.set_canary_events("errs{v=\"{{args.v}}\"}");
  provider.set_canary_requests("c_req");
  provider.set_baseline_events("b_err");
  provider.set_baseline_requests("b_req");
  auto substituted = SubstituteArgs(provider, {{"v", "2"}});
  ASSERT_TRUE(substituted.ok()) << substituted.status();
  EXPECT_FALSE(substituted->has_istio());
  EXPECT_EQ(QueriesFor(*substituted).canary_events, "errs{v=\"2\"}");
  EXPECT_EQ(QueriesFor(*substituted).baseline_requests, "b_req");
}

TEST(ComparativeTest, VerdictsExplainThemselves) {
  const absl::Duration step = absl::Seconds(5);
  EXPECT_EQ(JudgeComparative(Steady(10, 800, 0, 1, 0, 0.2), 0.01, 0.25, step)
                .verdict.phase,
            MeasurementPhase::kInconclusive)
      << "no canary requests: no evidence";
  auto bad =
      JudgeComparative(Steady(40, 800, 200, 1, 2, 0.2), 0.01, 0.25, step);
  EXPECT_EQ(bad.verdict.phase, MeasurementPhase::kFailed);
  for (const char* part :
       {"canary worse than 1.25x baseline", "rate ratio 8", "interval [",
        "e-value", "req/s a 2x regression needs",
        "valid if errors come in independent bursts of <= 5 events "
        "(maxBurst), each inside one 5s interval",
        "(this test, at maxBurst 5: up to about "}) {
    EXPECT_NE(bad.verdict.message.find(part), std::string::npos)
        << part << " in " << bad.verdict.message;
  }
  auto short_plan = JudgeComparative(Steady(12, 800, 200, 0.05, 0.01, 0.2),
                                     0.01, 0.25, step, absl::Seconds(30));
  EXPECT_NE(short_plan.verdict.message.find(
                "longer than the plan's 30s of timed pauses"),
            std::string::npos)
      << short_plan.verdict.message;
  // Each event weighs a fifth under the default burst bound: proving "not
  // worse" takes five times the intervals it took counting events singly.
  auto good =
      JudgeComparative(Steady(300, 800, 200, 4, 0.5, 0.2), 0.01, 0.25, step);
  EXPECT_EQ(good.verdict.phase, MeasurementPhase::kSuccessful);
  EXPECT_TRUE(good.not_worse);
  auto declared_independent =
      JudgeComparative(Steady(60, 800, 200, 4, 0.5, 0.2), 0.01, 0.25, step,
                       absl::ZeroDuration(), absl::ZeroDuration(), 1);
  EXPECT_TRUE(declared_independent.not_worse)
      << declared_independent.verdict.message;
  auto early =
      JudgeComparative(Steady(3, 800, 200, 1, 0.25, 0.2), 0.01, 0.25, step);
  EXPECT_EQ(early.verdict.phase, MeasurementPhase::kSuccessful);
  EXPECT_FALSE(early.not_worse) << "three intervals prove nothing";

  auto routing =
      JudgeComparative(Steady(30, 650, 350, 1, 0.4, 0.2), 0.01, 0.25, step);
  // A routing fault holds the rollout; it is no evidence against the canary.
  EXPECT_EQ(routing.verdict.phase, MeasurementPhase::kInconclusive);
  EXPECT_NE(
      routing.verdict.message.find("routing mismatch: the canary gets 35.0%"),
      std::string::npos)
      << routing.verdict.message;

  auto stopped = Steady(10, 800, 200, 1, 0.25, 0.2);
  for (int i = 0; i < 3; ++i) stopped.push_back({800, 0, 1, 0, 0.2});
  auto dead = JudgeComparative(stopped, 0.01, 0.25, step);
  EXPECT_EQ(dead.verdict.phase, MeasurementPhase::kFailed);
  EXPECT_NE(dead.verdict.message.find("canary stopped serving"),
            std::string::npos);
}

TEST(ComparativeTemplateTest, ParsesThePresetAndNamesBadFields) {
  using nlohmann::json;
  auto parsed = ParseAnalysisTemplate(
      json::parse(R"({"metrics": [{"name": "grpc-errors", "interval": "5s",
      "provider": {"comparative": {"prometheus": {"address": "http://p:9090"},
        "istio": {"service": "rpc-server", "canary": {"destination_canonical_revision": "v2"},
                  "baseline": {"destination_canonical_revision": "v1"}},
        "alpha": 0.01, "margin": 0.25}}}]})"),
      "CanaryAnalysisTemplate x");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const v1::ComparativeProvider& p = parsed->metrics[0].query.comparative();
  EXPECT_EQ(p.istio().event(), "grpc-errors");
  EXPECT_EQ(p.resolution_seconds(), 5);
  EXPECT_EQ(p.max_burst(), 0) << "unset: the analyzer's default";
  auto bursty = ParseAnalysisTemplate(json::parse(R"({"metrics": [{"name": "m",
      "provider": {"comparative": {"prometheus": {"address": "http://p"},
        "istio": {"service": "s", "canary": {"a": "b"}, "baseline": {"a": "c"}},
        "maxBurst": 12}}}]})"),
                                      "CanaryAnalysisTemplate x");
  ASSERT_TRUE(bursty.ok()) << bursty.status();
  EXPECT_EQ(bursty->metrics[0].query.comparative().max_burst(), 12);
  auto fractional =
      ParseAnalysisTemplate(json::parse(R"({"metrics": [{"name": "m",
      "provider": {"comparative": {"prometheus": {"address": "http://p"},
        "istio": {"service": "s", "canary": {"a": "b"}, "baseline": {"a": "c"}},
        "maxBurst": 0.5}}}]})"),
                            "CanaryAnalysisTemplate x");
  EXPECT_NE(fractional.status().message().find("maxBurst"),
            absl::string_view::npos)
      << fractional.status();
  auto bad = ParseAnalysisTemplate(json::parse(R"({"metrics": [{"name": "m",
      "provider": {"comparative": {"prometheus": {"address": "http://p"},
        "istio": {"service": "s", "canary": {"a": "b"}, "baseline": {"a": "c"}, "event": "timeouts"}}}}]})"),
                                   "CanaryAnalysisTemplate x");
  EXPECT_NE(
      bad.status().message().find("istio.event: \"timeouts\" is not one of"),
      absl::string_view::npos)
      << bad.status();
}

}  // namespace
}  // namespace smartcanary::analysis

namespace smartcanary {
namespace {

TEST(EarlyPromotionTest,
     ATimedPauseEndsOnceEveryComparativeMetricIsProvenNotWorse) {
  RolloutSpec spec;
  spec.traffic_routing = {"vs", {}, "dr", "stable", "canary", "", "", {}};
  spec.canary_labels = {{"version", "v2"}};
  spec.steps = {Step{Step::Kind::kSetWeight, 20, std::nullopt, {}},
                Step{Step::Kind::kPause, 0, absl::Minutes(10), {}},
                Step{Step::Kind::kSetWeight, 60, std::nullopt, {}}};
  spec.background_analysis =
      BackgroundAnalysis{AnalysisRef{{{"errors", false}}, {}}, 1};
  spec.early_promotion = true;
  MetricSpec errors;
  errors.name = "errors";
  errors.interval = absl::Seconds(5);
  errors.query.mutable_comparative()->set_alpha(0.01);
  ActiveAnalysis active{{}, {errors}};
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  RolloutStatus status;
  status.observed_generation = 1;
  status.current_step_index = 1;
  status.canary_weight = 20;
  status.phase = Phase::kPaused;
  status.pause_started_at = t0;
  status.background_run = StartRun(-1, active.background, t0);
  MeasurementRecord unproven{
      MeasurementPhase::kSuccessful, {1}, "no regression shown yet", t0, false};
  status.background_run =
      Record(active.background, *status.background_run, "errors", unproven);
  EXPECT_EQ(Decide(spec, 1, status, t0 + absl::Seconds(3), active)
                .next.current_step_index,
            1);
  MeasurementRecord proven = unproven;
  proven.not_worse = true;
  proven.at = t0 + absl::Seconds(5);
  status.background_run =
      Record(active.background, *status.background_run, "errors", proven);
  Decision early = Decide(spec, 1, status, t0 + absl::Seconds(6), active);
  EXPECT_EQ(early.next.current_step_index, 2);
  EXPECT_NE(early.next.message.find("early: the canary is proven not worse"),
            std::string::npos);
  spec.early_promotion = false;
  EXPECT_EQ(Decide(spec, 1, status, t0 + absl::Seconds(6), active)
                .next.current_step_index,
            1)
      << "only when the rollout asks for it";
}

}  // namespace
}  // namespace smartcanary
