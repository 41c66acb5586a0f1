// The scale benchmark's own parsing and arithmetic, on fixed inputs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>

#include "bench/apiserver_requests.h"
#include "bench/canaryd_client.h"
#include "bench/process_usage.h"
#include "bench/scale_objects.h"
#include "bench/scale_report.h"

namespace smartcanary::bench {
namespace {

constexpr char kApiserverMetrics[] = R"(# HELP apiserver_request_total x
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",dry_run="",group="smartcanary.dev",resource="canaryrollouts",scope="resource",subresource="",verb="GET",version="v1alpha1"} 40
apiserver_request_total{code="409",component="apiserver",dry_run="",group="smartcanary.dev",resource="canaryrollouts",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 2
apiserver_request_total{code="200",component="apiserver",dry_run="",group="smartcanary.dev",resource="canaryrollouts",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 10
apiserver_request_total{code="200",component="apiserver",dry_run="",group="coordination.k8s.io",resource="leases",scope="resource",subresource="",verb="PUT",version="v1"} 99
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="services",scope="cluster",subresource="",verb="LIST",version="v1"} 7
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="",scope="",subresource="",verb="GET",version=""} 5
apiserver_request_duration_seconds_count{verb="GET",resource="canaryrollouts"} 1000
)";

TEST(ApiserverRequestsTest, KeepsCanarydsResourcesByVerbAndCode) {
  const RequestCounts counts = ParseApiserverRequests(kApiserverMetrics);
  EXPECT_EQ(counts.by_request, (std::map<std::string, double>{
                                   {"GET canaryrollouts", 40},
                                   {"PATCH canaryrollouts/status", 12}}));
  EXPECT_EQ(counts.by_code.at("409 PATCH canaryrollouts/status"), 2);
  EXPECT_EQ(counts.Total(), 52);
}

TEST(ApiserverRequestsTest, DifferenceSubtractsBeforeAndOwnAndDropsZeros) {
  RequestCounts before, after, own;
  before.Add("GET canaryrollouts", 10);
  after.Add("GET canaryrollouts", 25);
  own.Add("GET canaryrollouts", 5);
  after.Add("POST canaryrollouts", 3);
  own.Add("POST canaryrollouts", 3);
  const RequestCounts canaryd = Difference(after, before, own);
  EXPECT_EQ(canaryd.by_request,
            (std::map<std::string, double>{{"GET canaryrollouts", 10}}));
}

TEST(PercentileTest, NearestRank) {
  const std::vector<double> values = {5, 1, 4, 2, 3};
  EXPECT_EQ(Percentile(values, 0.5), 3);
  EXPECT_EQ(Percentile(values, 0.99), 5);
  EXPECT_EQ(Percentile(values, 0.2), 1);
  EXPECT_TRUE(std::isnan(Percentile({}, 0.5)));
}

TEST(CanarydMetricsTest, CountersAndSeries) {
  const std::string text =
      R"(# HELP canaryd_reconciles_total Reconcile passes run.
canaryd_reconciles_total 1234
canaryd_reconcile_errors_total 0
canaryd_canary_weight{namespace="a",rollout="r1"} 20
canaryd_canary_weight{namespace="a",rollout="r2"} 0
)";
  EXPECT_EQ(MetricValue(text, "canaryd_reconciles_total"), 1234);
  EXPECT_EQ(MetricValue(text, "canaryd_reconciles"), 0);
  EXPECT_EQ(SeriesCount(text, "canaryd_canary_weight"), 2);
}

TEST(ScaleObjectsTest, RolloutPlanAndDeadlineArgument) {
  const nlohmann::json rollout = Rollout("ns", "r0001", Background::kDeadline,
                                         absl::FromUnixSeconds(1700));
  const nlohmann::json& spec = rollout["spec"];
  EXPECT_EQ(spec["steps"],
            nlohmann::json::parse(R"([{"setWeight": 20}, {"pause": {}}])"));
  EXPECT_EQ(spec["analysis"]["startingStep"], 1);
  EXPECT_EQ(spec["analysis"]["templates"][0]["templateName"],
            kDeadlineTemplate);
  EXPECT_EQ(spec["analysis"]["args"][0]["value"], "1700");
  EXPECT_EQ(spec["trafficRouting"]["istio"]["virtualService"]["name"], "r0001");
  EXPECT_FALSE(Rollout("ns", "r2", Background::kNone, absl::Now())
                   .at("spec")
                   .contains("analysis"));
}

TEST(ProcessUsageTest, ReadsThisProcess) {
  auto usage = ReadProcessUsage(getpid());
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_GT(usage->peak_rss_mb, 0);
  EXPECT_GE(usage->cpu_seconds, 0);
  EXPECT_EQ(FindChild("no-such-program"), -1);
}

}  // namespace
}  // namespace smartcanary::bench
