// The latency-histogram preset: its per-boundary queries, its bucket
// checks, its template field errors and its verdict on a median shift.
#include "analysis/histogram_judge.h"

#include <gtest/gtest.h>

#include "controller/analysis/analysis_spec.h"
#include "nlohmann/json.hpp"

namespace smartcanary::analysis {
namespace {

v1::ComparativeProvider HistogramPreset(std::vector<double> buckets) {
  v1::ComparativeProvider p;
  p.mutable_istio()->set_service("rpc-server");
  (*p.mutable_istio()->mutable_canary())["destination_canonical_revision"] =
      "v2";
  (*p.mutable_istio()->mutable_baseline())["destination_canonical_revision"] =
      "v1";
  p.mutable_istio()->set_event("latency-histogram");
  for (double b : buckets) p.mutable_istio()->add_latency_buckets_ms(b);
  return p;
}

TEST(HistogramJudgeTest, EachBoundaryCountsRequestsSlowerThanItsLe) {
  const auto providers = BoundaryProviders(HistogramPreset({50, 250}));
  ASSERT_EQ(providers.size(), 2u);
  const CounterQueries q = QueriesFor(providers[1]);
  // Slower than le = all requests minus the cumulative bucket at le.
  EXPECT_EQ(q.canary_events,
            "sum(istio_request_duration_milliseconds_count{reporter="
            "\"destination\",destination_service_name=\"rpc-server\","
            "destination_canonical_revision=\"v2\"}) - "
            "sum(istio_request_duration_milliseconds_bucket{reporter="
            "\"destination\",destination_service_name=\"rpc-server\","
            "destination_canonical_revision=\"v2\",le=\"250\"})");
  EXPECT_EQ(q.baseline_requests,
            "sum(istio_request_duration_milliseconds_count{reporter="
            "\"destination\",destination_service_name=\"rpc-server\","
            "destination_canonical_revision=\"v1\"})");
  EXPECT_NE(QueriesFor(providers[0]).baseline_events.find("le=\"50\""),
            std::string::npos);
}

TEST(HistogramJudgeTest, BucketListsAreCheckedWithTheFieldNamed) {
  EXPECT_TRUE(CheckHistogramBuckets(HistogramPreset({10, 50}).istio()).ok());
  EXPECT_EQ(CheckHistogramBuckets(HistogramPreset({}).istio()).message(),
            "istio.latencyBucketsMs: latency-histogram needs 1 to 32 bucket "
            "boundaries (le values), got 0");
  std::vector<double> many;
  for (int i = 1; i <= 33; ++i) many.push_back(i);
  EXPECT_FALSE(CheckHistogramBuckets(HistogramPreset(many).istio()).ok());
  EXPECT_EQ(CheckHistogramBuckets(HistogramPreset({50, 50}).istio()).message(),
            "istio.latencyBucketsMs[1]: boundaries must increase (50 after "
            "50)");
  EXPECT_EQ(CheckHistogramBuckets(HistogramPreset({-1}).istio()).message(),
            "istio.latencyBucketsMs[0]: must be a positive number of "
            "milliseconds");
}

TEST(HistogramJudgeTest, TemplateFieldErrors) {
  using nlohmann::json;
  json spec = json::parse(R"({"metrics": [{"name": "latency",
      "interval": "5s", "provider": {"comparative": {
        "prometheus": {"address": "http://p:9090"},
        "istio": {"service": "rpc-server", "event": "latency-histogram",
                  "canary": {"destination_canonical_revision": "v2"},
                  "baseline": {"destination_canonical_revision": "v1"}}}}}]})");
  auto error = [&] {
    auto parsed = ParseAnalysisTemplate(spec, "t");
    EXPECT_FALSE(parsed.ok());
    return std::string(parsed.status().message());
  };
  auto& istio = spec["metrics"][0]["provider"]["comparative"]["istio"];
  EXPECT_NE(error().find("comparative.istio.latencyBucketsMs: is required for "
                         "latency-histogram"),
            std::string::npos);
  istio["latencyBucketsMs"] = json::array({10, "50"});
  EXPECT_NE(error().find("comparative.istio.latencyBucketsMs[1]: must be a "
                         "number of milliseconds"),
            std::string::npos);
  istio["latencyBucketsMs"] = json::array({50, 10});
  EXPECT_NE(error().find("comparative.istio.latencyBucketsMs[1]: boundaries "
                         "must increase"),
            std::string::npos);
  istio["latencyBucketsMs"] = json::array({10, 50, 250});
  auto parsed = ParseAnalysisTemplate(spec, "t");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  istio["event"] = "slower-than";
  istio["latencyObjectiveMs"] = 250;
  EXPECT_NE(error().find("comparative.istio.latencyBucketsMs: is only for "
                         "event latency-histogram"),
            std::string::npos);
}

// Shares of requests slower than each boundary, canary and baseline, at
// even split and 100 requests per arm per interval.
std::vector<std::vector<stats::IntervalCounts>> Arms(
    const std::vector<double>& canary_slower,
    const std::vector<double>& baseline_slower, int intervals) {
  std::vector<std::vector<stats::IntervalCounts>> out;
  for (size_t b = 0; b < canary_slower.size(); ++b) {
    out.emplace_back();
    for (int k = 0; k < intervals; ++k) {
      out.back().push_back({.baseline_requests = 100,
                            .canary_requests = 100,
                            .baseline_events = 100 * baseline_slower[b],
                            .canary_events = 100 * canary_slower[b],
                            .configured_canary_share = 0.5});
    }
  }
  return out;
}

const std::vector<double> kBoundaries = {10, 50, 250, 1000};
const std::vector<double> kBaseline = {0.9, 0.3, 0.02, 0.005};

TEST(HistogramJudgeTest, AMedianShiftFailsWhereAHighObjectiveDoesNot) {
  // Half the requests now slower than 50ms instead of 30%; the tail (250ms,
  // 1s) unchanged.
  const auto shifted = Arms({0.9, 0.5, 0.02, 0.005}, kBaseline, 60);
  const ComparativeVerdict v = JudgeHistogram(shifted, kBoundaries, 0.01, 0.25,
                                              absl::Seconds(5), 5, true);
  EXPECT_EQ(v.verdict.phase, MeasurementPhase::kFailed) << v.verdict.message;
  EXPECT_NE(v.verdict.message.find("worst at le=50ms"), std::string::npos)
      << v.verdict.message;
  EXPECT_NE(v.verdict.message.find("bursts of <= 5 (maxBurst)"),
            std::string::npos);
  // The one-objective preset at 250ms sees the unchanged tail only.
  const ComparativeVerdict one =
      JudgeComparative(shifted[2], 0.01, 0.25, absl::Seconds(5));
  EXPECT_NE(one.verdict.phase, MeasurementPhase::kFailed)
      << one.verdict.message;
}

TEST(HistogramJudgeTest, AnEqualCanaryIsNotFailedAndCanBeProven) {
  const auto equal = Arms(kBaseline, kBaseline, 200);
  const ComparativeVerdict v =
      JudgeHistogram(equal, kBoundaries, 0.01, 0.25, absl::Seconds(5), 5, true);
  EXPECT_EQ(v.verdict.phase, MeasurementPhase::kSuccessful)
      << v.verdict.message;
  EXPECT_NE(v.verdict.message.find("latency histogram over 4 boundaries"),
            std::string::npos);
}

TEST(HistogramJudgeTest, NoCanaryTrafficIsNoData) {
  auto silent = Arms(kBaseline, kBaseline, 3);
  for (auto& boundary : silent)
    for (auto& c : boundary) c.canary_requests = c.canary_events = 0;
  EXPECT_EQ(JudgeHistogram(silent, kBoundaries, 0.01, 0.25, absl::Seconds(5))
                .verdict.phase,
            MeasurementPhase::kInconclusive);
}

}  // namespace
}  // namespace smartcanary::analysis
