// canaryctl backtest against a real canary-analyzer and Debian's real
// Prometheus: the Prometheus range door finds a regression in scraped
// history and leaves an equal canary alone; the CSV door answers only a
// caller with the analyzer's token.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "analysis/preflight.h"
#include "controller/http/http_server.h"
#include "smartcanary/v1/analysis.grpc.pb.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::testing {
namespace {

constexpr char kToken[] = "backtest-shared-token";

// Istio's request counter for one revision: `rps` requests a second since
// `start`, `error_share` of them 503s.
std::string Counter(absl::Time start, const std::string& revision, double rps,
                    double error_share) {
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const std::string labels = absl::StrCat(
      "reporter=\"destination\",destination_service_name=\"checkout\","
      "destination_canonical_revision=\"",
      revision, "\"");
  return absl::StrFormat(
      "istio_requests_total{%s,response_code=\"200\"} %.0f\n"
      "istio_requests_total{%s,response_code=\"503\"} %.0f\n",
      labels, rps * seconds * (1 - error_share), labels,
      rps * seconds * error_share);
}

class BacktestTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char base[] = "/tmp/backtest-test-XXXXXX";
    ASSERT_NE(mkdtemp(base), nullptr);
    dir_ = new std::string(base);
    std::ofstream(*dir_ + "/token") << kToken << "\n";
    start_ = absl::Now();
    exporter_ = new http::HttpServer();
    exporter_->Handle("/metrics", [] {
      // v1 is the baseline at 1% errors; v2 a canary at 10%, v3 one at 1%,
      // each at a quarter of v1's traffic (weight 20).
      return http::Response{
          200, "text/plain; version=0.0.4",
          absl::StrCat("# TYPE istio_requests_total counter\n",
                       Counter(start_, "v1", 800, 0.01),
                       Counter(start_, "v2", 200, 0.1),
                       Counter(start_, "v3", 200, 0.01))};
    });
    const int exporter_port = *exporter_->Start("127.0.0.1:0");
    prometheus_ =
        new PrometheusProcess({absl::StrCat("127.0.0.1:", exporter_port)});
    analyzer_port_ = FreePort();
    analyzer_ = new ChildProcess(
        "canary-analyzer-backtest",
        LocalAnalyzerArgv(analyzer_port_,
                          {"--client-token-file=" + *dir_ + "/token"}));
    // 30 scrapes (1 s apart) of history to judge.
    ASSERT_TRUE(prometheus_->WaitForData(
        "count_over_time(istio_requests_total{destination_canonical_revision="
        "\"v2\",response_code=\"503\"}[5m]) >= 30",
        absl::Seconds(180)));
  }
  static void TearDownTestSuite() {
    delete analyzer_;
    delete prometheus_;
    delete exporter_;
    EXPECT_EQ(std::system(("rm -rf " + *dir_).c_str()), 0);
    delete dir_;
  }

  static std::string Analyzer() {
    return absl::StrCat("127.0.0.1:", analyzer_port_);
  }

  // canaryctl backtest over the scraped history, canary `revision` against
  // v1, with the analyzer's token.
  static CommandResult BacktestRange(const std::string& revision) {
    const absl::Time end = absl::Now();
    return Canaryctl(Analyzer(), {"backtest",
                                  "--analyzer",
                                  Analyzer(),
                                  "--token-file",
                                  *dir_ + "/token",
                                  "--prometheus",
                                  prometheus_->url(),
                                  "--service",
                                  "checkout",
                                  "--canary",
                                  "destination_canonical_revision=" + revision,
                                  "--baseline",
                                  "destination_canonical_revision=v1",
                                  "--event",
                                  "http-5xx",
                                  "--start",
                                  absl::StrCat(absl::ToUnixSeconds(start_) + 2),
                                  "--end",
                                  absl::StrCat(absl::ToUnixSeconds(end)),
                                  "--weights",
                                  "20",
                                  "--step",
                                  "5s"});
  }

  static std::string* dir_;
  static absl::Time start_;
  static http::HttpServer* exporter_;
  static PrometheusProcess* prometheus_;
  static int analyzer_port_;
  static ChildProcess* analyzer_;
};

std::string* BacktestTest::dir_ = nullptr;
absl::Time BacktestTest::start_;
http::HttpServer* BacktestTest::exporter_ = nullptr;
PrometheusProcess* BacktestTest::prometheus_ = nullptr;
int BacktestTest::analyzer_port_ = 0;
ChildProcess* BacktestTest::analyzer_ = nullptr;

TEST_F(BacktestTest, AScrapedRegressionIsRolledBack) {
  const CommandResult result = BacktestRange("v2");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("Failed"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("summary: "), std::string::npos);
  EXPECT_NE(result.output.find("first rollback at interval"), std::string::npos)
      << result.output;
}

TEST_F(BacktestTest, AnEqualCanaryIsNotRolledBack) {
  const CommandResult result = BacktestRange("v3");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("no rollback"), std::string::npos)
      << result.output;
  EXPECT_EQ(result.output.find("Failed"), std::string::npos) << result.output;
}

TEST_F(BacktestTest, APrometheusOutsideTheAllowlistIsRefused) {
  const CommandResult result = Canaryctl(
      Analyzer(),
      {"backtest", "--analyzer", Analyzer(), "--token-file", *dir_ + "/token",
       "--prometheus", "http://169.254.169.254:9090", "--service", "checkout",
       "--canary", "v=2", "--baseline", "v=1", "--start", "1000", "--end",
       "2000", "--weights", "20"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("provider.comparative.prometheus"),
            std::string::npos)
      << result.output;
}

TEST_F(BacktestTest, TheCsvDoorAnswersOnlyWithTheToken) {
  const std::string csv = *dir_ + "/counts.csv";
  std::ofstream(csv) << "interval_end_seconds,canary_events,canary_requests,"
                        "baseline_events,baseline_requests,"
                        "configured_canary_share\n"
                        "5,10,100,4,400,0.2\n10,12,100,4,400,0.2\n";
  const std::string command =
      absl::StrCat("'", RunfilePath("cli/canaryctl"),
                   "' backtest --csv --insecure --analyzer ", Analyzer());
  const CommandResult anonymous = RunShell(command + " < " + csv);
  EXPECT_NE(anonymous.exit_code, 0);
  EXPECT_NE(anonymous.output.find("answers only canaryd"), std::string::npos)
      << anonymous.output;
  const CommandResult with_token =
      RunShell(command + " --token-file " + *dir_ + "/token -o json < " + csv);
  ASSERT_EQ(with_token.exit_code, 0) << with_token.output;
  EXPECT_NE(with_token.output.find("\"decisions\""), std::string::npos);
  EXPECT_NE(with_token.output.find("\"interval\": 2"), std::string::npos)
      << with_token.output;
}

// The Preflight RPC reads the stable's rates from Prometheus and answers
// what the pure pre-flight computes from them.
v1::PreflightRequest PreflightRequestFor(const std::string& prometheus,
                                         std::vector<v1::PlanStep> plan) {
  v1::PreflightRequest request;
  v1::Metric* metric = request.mutable_metric();
  metric->set_name("errors");
  v1::ComparativeProvider* p = metric->mutable_comparative();
  p->mutable_prometheus()->set_address(prometheus);
  p->mutable_istio()->set_service("checkout");
  p->mutable_istio()->set_event("http-5xx");
  (*p->mutable_istio()->mutable_canary())["destination_canonical_revision"] =
      "v2";
  (*p->mutable_istio()->mutable_baseline())["destination_canonical_revision"] =
      "v1";
  p->set_alpha(0.01);
  p->set_margin(0.25);
  p->set_max_burst(5);
  for (const v1::PlanStep& step : plan) *request.add_plan() = step;
  request.set_window_seconds(60);
  return request;
}

v1::PlanStep Step(int weight, int64_t seconds) {
  v1::PlanStep step;
  step.set_canary_weight(weight);
  step.set_duration_seconds(seconds);
  return step;
}

TEST_F(BacktestTest, PreflightReadsTheStableRatesAndJudgesThePlan) {
  auto channel =
      grpc::CreateChannel(Analyzer(), grpc::InsecureChannelCredentials());
  auto stub = v1::AnalysisService::NewStub(channel);
  auto call = [&](const v1::PreflightRequest& request,
                  v1::PreflightResponse* response) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(60));
    return stub->Preflight(&context, request, response);
  };
  v1::PreflightResponse ample;
  grpc::Status status = call(
      PreflightRequestFor(prometheus_->url(), {Step(20, 300), Step(50, 300)}),
      &ample);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // 800 + 200 req/s scraped; the baseline's 1% errors.
  EXPECT_NEAR(ample.requests_per_second(), 1000, 50);
  EXPECT_NEAR(ample.error_rate(), 0.01, 0.001);
  EXPECT_TRUE(ample.regression_within_plan()) << ample.message();
  EXPECT_EQ(ample.plan_seconds(), 600);
  analysis::PreflightInput in;
  in.requests_per_second = ample.requests_per_second();
  in.error_rate = ample.error_rate();
  in.plan = {{0.2, absl::Seconds(300)}, {0.5, absl::Seconds(300)}};
  auto expected = analysis::Preflight(in);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(ample.message(), expected->message);

  v1::PreflightResponse short_plan;
  status =
      call(PreflightRequestFor(prometheus_->url(), {Step(1, 1)}), &short_plan);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(short_plan.regression_within_plan());
  EXPECT_EQ(short_plan.regression_seconds(), -1);
  EXPECT_NE(short_plan.message().find("the plan ends before a 2x regression "
                                      "could show"),
            std::string::npos)
      << short_plan.message();

  v1::PreflightResponse refused;
  status =
      call(PreflightRequestFor(prometheus_->url(), {Step(120, 1)}), &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "plan[0].canary_weight: must be in 0..100");

  grpc::ClientContext anonymous;
  EXPECT_EQ(
      stub->Preflight(&anonymous, PreflightRequestFor(prometheus_->url(), {}),
                      &refused)
          .error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace smartcanary::testing
