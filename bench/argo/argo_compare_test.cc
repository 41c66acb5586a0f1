#include <gtest/gtest.h>
#include <unistd.h>

#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/argo/argo_objects.h"
#include "bench/argo/compare_report.h"
#include "bench/argo/failed_measurement.h"
#include "bench/argo/pod_readiness.h"
#include "bench/process_usage.h"

namespace smartcanary::bench::argo {
namespace {

using nlohmann::json;

json Pod() {
  return json::parse(R"({"metadata": {"name": "p"},
      "spec": {"containers": [{"name": "app", "image": "x:v1"}]},
      "status": {"phase": "Pending"}})");
}

TEST(PodReadiness, PendingPodGetsRunningAndReady) {
  const auto patch = ReadyPatch(Pod(), absl::FromUnixSeconds(1700000000));
  ASSERT_TRUE(patch.has_value());
  const json& status = (*patch)["status"];
  EXPECT_EQ(status["phase"], "Running");
  bool ready = false;
  for (const json& c : status["conditions"])
    if (c["type"] == "Ready") ready = c["status"] == "True";
  EXPECT_TRUE(ready);
  EXPECT_EQ(status["conditions"][0]["lastTransitionTime"],
            "2023-11-14T22:13:20Z");
  ASSERT_EQ(status["containerStatuses"].size(), 1u);
  EXPECT_EQ(status["containerStatuses"][0]["name"], "app");
  EXPECT_TRUE(status["containerStatuses"][0]["ready"].get<bool>());
}

TEST(PodReadiness, ReadyDeletedOrEmptyPodsAreLeftAlone) {
  json ready = Pod();
  ready["status"] = json::parse(
      R"({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]})");
  EXPECT_FALSE(ReadyPatch(ready, absl::Now()).has_value());
  json deleted = Pod();
  deleted["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  EXPECT_FALSE(ReadyPatch(deleted, absl::Now()).has_value());
  json empty = Pod();
  empty["spec"]["containers"] = json::array();
  EXPECT_FALSE(ReadyPatch(empty, absl::Now()).has_value());
  // Wrong types are not ready pods and do not throw.
  json odd = Pod();
  odd["spec"] = "containers";
  EXPECT_FALSE(ReadyPatch(odd, absl::Now()).has_value());
  EXPECT_FALSE(ReadyPatch(json::array(), absl::Now()).has_value());
}

TEST(ArgoObjects, BothControllersGetTheSamePlan) {
  const json steps = PlanSteps();
  ASSERT_EQ(steps.size(), 5u);
  EXPECT_EQ(steps[0]["setWeight"], 20);
  EXPECT_TRUE(steps[1].contains("pause"));
  EXPECT_EQ(steps[2]["setWeight"], 50);
  EXPECT_EQ(steps[4]["setWeight"], 100);
  const absl::Time fail_at = absl::FromUnixSeconds(1800000000);
  const json ours = CanaryRollout("ns", "s0001", &fail_at);
  EXPECT_EQ(ours["spec"]["steps"], steps);
  EXPECT_EQ(ours["spec"]["analysis"]["args"][0]["value"], "1800000000");
  const json theirs = ArgoRollout("ns", "s0001", 1, &fail_at);
  const json& canary = theirs["spec"]["strategy"]["canary"];
  EXPECT_EQ(canary["steps"], steps);
  EXPECT_EQ(canary["trafficRouting"]["istio"]["destinationRule"]["name"],
            "s0001");
  EXPECT_EQ(canary["analysis"]["args"][0]["value"], "1800000000");
  EXPECT_EQ(canary["analysis"]["templates"][0]["templateName"],
            ours["spec"]["analysis"]["templates"][0]["templateName"]);
  EXPECT_FALSE(
      CanaryRollout("ns", "s0002", nullptr)["spec"].contains("analysis"));
}

TEST(ArgoObjects, RevisionPatchAndAbortAsArgoExpectsThem) {
  const json patch = ArgoRevisionPatch(2, nullptr);
  EXPECT_EQ(
      patch["spec"]["template"]["metadata"]["annotations"]["bench/revision"],
      "2");
  EXPECT_FALSE(patch["spec"].contains("strategy"));
  EXPECT_EQ(ArgoAbortPatch(), json::parse(R"({"status": {"abort": true}})"));
  const json tmpl =
      ArgoDeadlineTemplate("ns", "http://p:9090", absl::Seconds(1));
  const json& metric = tmpl["spec"]["metrics"][0];
  EXPECT_EQ(metric["interval"], "1s");
  EXPECT_EQ(metric["failureLimit"], 0);
  EXPECT_EQ(metric["provider"]["prometheus"]["query"], "vector(time())");
}

TEST(FailedMeasurement, EarliestFailedValueOfEachController) {
  const json ours = json::parse(R"({"status": {"backgroundAnalysis": {
      "metrics": [{"measurements": [
        {"phase": "Successful", "values": [1795788621.881]},
        {"phase": "Failed", "values": [1795788623.5]},
        {"phase": "Failed", "values": [1795788622.891]}]}]}}})");
  EXPECT_EQ(OursFirstFailure(ours),
            absl::FromUnixMicros(int64_t{1795788622891000}));
  const json argo = json::parse(R"({"status": {"metricResults": [
      {"measurements": [
        {"phase": "Successful", "value": "[1795788645.002]"},
        {"phase": "Failed", "value": "[1795788646.001]"}]}]}})");
  EXPECT_EQ(ArgoFirstFailure(argo),
            absl::FromUnixMicros(int64_t{1795788646001000}));
  // No failure, or values of the wrong shape: none, and no exception.
  EXPECT_FALSE(OursFirstFailure(json::parse(R"({"status": {}})")));
  EXPECT_FALSE(ArgoFirstFailure(json::parse(R"({"status": {"metricResults":
      [{"measurements": [{"phase": "Failed", "value": "NaN?"}]}]}})")));
  EXPECT_FALSE(OursFirstFailure(json::parse(R"({"status": {
      "backgroundAnalysis": {"metrics": [{"measurements":
      [{"phase": "Failed", "values": ["x"]}]}]}}})")));
  EXPECT_FALSE(ArgoFirstFailure(json::array()));
}

TEST(CompareReport, RatiosPercentilesAndControllerRequests) {
  EXPECT_EQ(Ratio(1.0, 4.0), 0.25);
  EXPECT_FALSE(Ratio(1.0, 0.0).has_value());
  EXPECT_FALSE(Ratio(std::nullopt, 2.0).has_value());
  EXPECT_FALSE(PercentileOf({}, 0.5).has_value());
  EXPECT_EQ(PercentileOf({3.0}, 0.99), 3.0);

  RequestCounts counts;
  counts.Add("PUT replicasets/status", 7);
  counts.Add("PATCH virtualservices", 3);
  const RequestCounts mine = ControllerRequests(counts);
  EXPECT_EQ(mine.Total(), 3);

  SideResult side;
  side.steps = 0;
  EXPECT_FALSE(RequestsPerStep(side).has_value());
  side.steps = 3;
  side.requests = mine;
  EXPECT_EQ(RequestsPerStep(side), 1.0);
}

TEST(CompareReport, TableShowsRatiosAndMissedTargets) {
  ComparePair pair;
  pair.ours.rollouts = pair.argo.rollouts = 1000;
  pair.ours.abort_seconds = {2.0};  // slower than Argo and over 1 s: missed
  pair.argo.abort_seconds = {4.0};
  pair.ours.peak_rss_mb = 10;
  pair.argo.peak_rss_mb = 100;  // 10x less: met
  pair.ours.peak_anon_mb = 30;
  pair.argo.peak_anon_mb = 100;  // 3.3x less: missed
  const std::string table = RenderComparison({pair});
  EXPECT_NE(table.find("| abort → stable 100, p99 | ≤ 1, and < 1 s at N = "
                       "1000 | 0.50 (**missed**) |"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("| peak RSS (MB) | ≤ 0.2 | 0.10 (met) |"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("| peak anonymous memory (MB; RssAnon, sampled) | ≤ "
                       "0.2 | 0.30 (**missed**) |"),
            std::string::npos)
      << table;
}

TEST(ProcessUsage, ReadsItsOwnAnonymousMemory) {
  auto usage = ReadProcessUsage(getpid());
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_GT(usage->rss_anon_mb, 0);
  EXPECT_GE(usage->peak_rss_mb, usage->rss_anon_mb);
  // 64 MB touched: the sampler's peak must see at least most of it.
  std::vector<char> block(64 << 20, 1);
  AnonPeakSampler sampler(getpid());
  auto seen = ReadProcessUsage(getpid());
  ASSERT_TRUE(seen.ok());
  // A guard, not a timing claim: the sampler reads every 100 ms.
  for (int i = 0; i < 3000 && sampler.PeakMb() < seen->rss_anon_mb * 0.99;
       ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_GT(sampler.PeakMb(), 60);
  EXPECT_EQ(block[12345], 1);
}

}  // namespace
}  // namespace smartcanary::bench::argo
