// A comparative metric judged 30 hours into a bake: Debian's Prometheus
// serves Istio counters backfilled with promtool, and canary-analyzer must
// cover the whole window without any query passing Prometheus' limit of
// 11,000 points per series (one 5 s query over 30 h would need 21,600).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/time_util.h"
#include "smartcanary/v1/analysis.grpc.pb.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::testing {
namespace {

using google::protobuf::util::TimeUtil;

constexpr int kScrapeSeconds = 30;
// Per scrape: the canary serves a fifth of the requests, with the
// baseline's error rate.
struct Arm {
  const char* version;
  int ok, errors;
};
constexpr Arm kCanary{"canary", 60, 1};
constexpr Arm kBaseline{"stable", 240, 4};

std::string TmpDir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return tmp != nullptr ? tmp : "/tmp";
}

CommandResult Shell(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  std::string output;
  char buffer[4096];
  size_t got;
  while ((got = fread(buffer, 1, sizeof buffer, pipe)) > 0)
    output.append(buffer, got);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// istio_requests_total of both arms every 30 s over [begin, end], as
// OpenMetrics for `promtool tsdb create-blocks-from openmetrics`.
std::string OpenMetrics(int64_t begin, int64_t end) {
  std::string out = "# TYPE istio_requests counter\n";
  for (const Arm& arm : {kCanary, kBaseline}) {
    for (auto [code, per_scrape] :
         {std::pair{"200", arm.ok}, std::pair{"500", arm.errors}}) {
      const std::string series = absl::StrCat(
          "istio_requests_total{reporter=\"destination\","
          "destination_service_name=\"rpc-server\",version=\"",
          arm.version, "\",response_code=\"", code, "\"} ");
      for (int64_t t = begin, n = 0; t <= end; t += kScrapeSeconds, ++n)
        absl::StrAppend(&out, series, 1000 + n * per_scrape, " ", t, "\n");
    }
  }
  return out + "# EOF\n";
}

TEST(LongBakeTest, ThirtyHoursOfHistoryAreJudgedWhole) {
  const absl::Time now = absl::Now();
  const int64_t end = absl::ToUnixSeconds(now);
  const int64_t begin = end - 31 * 3600;
  const std::string dir = TmpDir() + "/long-bake";
  ASSERT_EQ(Shell("rm -rf " + dir + " && mkdir -p " + dir).exit_code, 0);
  {
    FILE* file = fopen((dir + "/istio.om").c_str(), "w");
    ASSERT_NE(file, nullptr);
    fputs(OpenMetrics(begin, end).c_str(), file);
    fclose(file);
  }
  const CommandResult backfill = Shell(
      absl::StrCat("/usr/bin/promtool tsdb create-blocks-from openmetrics ",
                   dir, "/istio.om ", dir, "/data"));
  ASSERT_EQ(backfill.exit_code, 0) << backfill.output;

  PrometheusProcess prometheus({}, absl::Seconds(1), dir + "/data");
  ASSERT_TRUE(prometheus.WaitForData("istio_requests_total"));
  // The premise: Prometheus refuses the whole window at 5 s in one query,
  // and answers it at 20 s.
  const absl::Time started = now - absl::Hours(30);
  auto range = [&](int step) {
    return HttpGet(absl::StrCat(
        prometheus.url(),
        "/api/v1/query_range?query=", UrlEncode("sum(istio_requests_total)"),
        "&start=", absl::ToUnixSeconds(started), "&end=", end, "&step=", step));
  };
  EXPECT_EQ(range(5), "");
  EXPECT_NE(range(20), "");

  const int port = FreePort();
  ChildProcess analyzer("canary-analyzer-long-bake", LocalAnalyzerArgv(port));
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() +
                                        std::chrono::seconds(30)));
  v1::AnalyzeRequest request;
  v1::Metric* metric = request.add_metrics();
  metric->set_name("errors-vs-baseline");
  v1::ComparativeProvider* provider = metric->mutable_comparative();
  provider->mutable_prometheus()->set_address(prometheus.url());
  provider->mutable_istio()->set_service("rpc-server");
  (*provider->mutable_istio()->mutable_canary())["version"] = "canary";
  (*provider->mutable_istio()->mutable_baseline())["version"] = "stable";
  provider->mutable_istio()->set_event("http-5xx");
  provider->set_alpha(0.01);
  provider->set_margin(0.25);
  provider->set_resolution_seconds(5);
  provider->set_budget_share(1);
  v1::RolloutContext* context = request.mutable_context();
  *context->mutable_analysis_started_at() =
      TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(started));
  v1::WeightChange* weight = context->add_weight_timeline();
  *weight->mutable_at() = context->analysis_started_at();
  weight->set_canary_weight(20);

  // Generous: the analyzer reads 30 h in tiers and runs the test on them.
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(120));
  v1::AnalyzeResponse response;
  const grpc::Status status =
      v1::AnalysisService::NewStub(channel)->Analyze(&call, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.measurements_size(), 1);
  const v1::Measurement& measurement = response.measurements(0);
  EXPECT_EQ(measurement.phase(), v1::SUCCESSFUL) << measurement.message();
  std::printf("verdict: %s\n", measurement.message().c_str());

  // The evidence counts every request since the start: 30 h of scrapes,
  // less at most one at the newest interval's edge.
  std::smatch counts;
  const std::string& message = measurement.message();
  ASSERT_TRUE(std::regex_search(
      message, counts,
      std::regex(
          R"(canary \S+ \((\d+)/(\d+) req\) vs baseline \S+ \((\d+)/(\d+)\))")))
      << message;
  int64_t scrapes = 0;
  for (int64_t t = begin; t <= end; t += kScrapeSeconds)
    scrapes += t > absl::ToUnixSeconds(started);
  auto count = [&](int i) {
    int64_t value = 0;
    EXPECT_TRUE(absl::SimpleAtoi(counts[i].str(), &value)) << counts[i];
    return value;
  };
  const int64_t canary = kCanary.ok + kCanary.errors;
  const int64_t baseline = kBaseline.ok + kBaseline.errors;
  EXPECT_LE(count(2), scrapes * canary) << message;
  EXPECT_GE(count(2), (scrapes - 1) * canary) << message;
  EXPECT_LE(count(4), scrapes * baseline) << message;
  EXPECT_GE(count(4), (scrapes - 1) * baseline) << message;
  EXPECT_GE(count(1), (scrapes - 1) * kCanary.errors) << message;
}

}  // namespace
}  // namespace smartcanary::testing
