// canary-analyzer against Debian's real Prometheus scraping a test exporter.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "controller/http/http_server.h"
#include "smartcanary/v1/analysis.grpc.pb.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::testing {
namespace {

// One Prometheus, one exporter and one analyzer for the whole suite: they
// take seconds to warm up and nothing a test does changes them, except the
// test that stops Prometheus, which uses a server of its own.
class AnalyzerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    exporter_ = new http::HttpServer();
    exporter_->Handle("/metrics", [] {
      return http::Response{200, "text/plain; version=0.0.4",
                            "# TYPE demo_success_rate gauge\n"
                            "demo_success_rate{version=\"v2\"} 0.99\n"
                            "demo_success_rate{version=\"v3\"} 0.5\n"
                            "# TYPE demo_requests_total counter\n"
                            "demo_requests_total{version=\"v2\"} 100\n"};
    });
    exporter_port_ = *exporter_->Start("127.0.0.1:0");
    prometheus_ =
        new PrometheusProcess({absl::StrCat("127.0.0.1:", exporter_port_)});
    ASSERT_TRUE(prometheus_->WaitForData("demo_success_rate"));
    analyzer_port_ = FreePort();
    analyzer_ =
        new ChildProcess("canary-analyzer", LocalAnalyzerArgv(analyzer_port_));
  }
  static void TearDownTestSuite() {
    delete analyzer_;
    delete prometheus_;
    delete exporter_;
  }

  AnalyzerTest() {
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", analyzer_port_),
                                   grpc::InsecureChannelCredentials());
    EXPECT_TRUE(channel_->WaitForConnected(std::chrono::system_clock::now() +
                                           std::chrono::seconds(20)));
    stub_ = v1::AnalysisService::NewStub(channel_);
  }

  static v1::Metric Metric(const std::string& query, const std::string& success,
                           const std::string& address = "") {
    v1::Metric metric;
    metric.set_name("m");
    metric.mutable_prometheus()->set_address(
        address.empty() ? prometheus_->url() : address);
    metric.mutable_prometheus()->set_query(query);
    metric.set_success_condition(success);
    return metric;
  }

  v1::Measurement Analyze(
      const v1::Metric& metric,
      const std::vector<std::pair<std::string, std::string>>& args = {}) {
    v1::AnalyzeRequest request;
    *request.add_metrics() = metric;
    for (const auto& [name, value] : args) {
      v1::Arg* arg = request.add_args();
      arg->set_name(name);
      arg->set_value(value);
    }
    grpc::ClientContext context;
    v1::AnalyzeResponse response;
    grpc::Status status = stub_->Analyze(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.measurements_size(), 1);
    return response.measurements_size() == 1 ? response.measurements(0)
                                             : v1::Measurement();
  }

  static http::HttpServer* exporter_;
  static int exporter_port_;
  static PrometheusProcess* prometheus_;
  static int analyzer_port_;
  static ChildProcess* analyzer_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AnalysisService::Stub> stub_;
};

http::HttpServer* AnalyzerTest::exporter_ = nullptr;
int AnalyzerTest::exporter_port_ = 0;
PrometheusProcess* AnalyzerTest::prometheus_ = nullptr;
int AnalyzerTest::analyzer_port_ = 0;
ChildProcess* AnalyzerTest::analyzer_ = nullptr;

TEST_F(AnalyzerTest, SuccessfulAndFailedMeasurementsCarryTheirValues) {
  v1::Measurement good =
      Analyze(Metric("demo_success_rate{version=\"v2\"}", "result[0] >= 0.95"));
  EXPECT_EQ(good.phase(), v1::SUCCESSFUL) << good.message();
  ASSERT_EQ(good.values_size(), 1);
  EXPECT_DOUBLE_EQ(good.values(0), 0.99);

  v1::Measurement bad =
      Analyze(Metric("demo_success_rate{version=\"v3\"}", "result[0] >= 0.95"));
  EXPECT_EQ(bad.phase(), v1::FAILED);
  EXPECT_EQ(bad.message(),
            "successCondition `result[0] >= 0.95` is false for result=[0.5]");

  v1::Metric failure_only = Metric("demo_success_rate{version=\"v3\"}", "");
  failure_only.set_failure_condition("result[0] < 0.9");
  EXPECT_EQ(Analyze(failure_only).phase(), v1::FAILED);
}

TEST_F(AnalyzerTest, NoSeriesAndNaNAreInconclusiveNeverAPass) {
  v1::Measurement empty =
      Analyze(Metric("demo_success_rate{version=\"v9\"}",
                     "len(result) == 0 || result[0] >= 0.95"));
  EXPECT_EQ(empty.phase(), v1::INCONCLUSIVE);
  EXPECT_NE(empty.message().find("no data"), std::string::npos)
      << empty.message();
  v1::Measurement nan = Analyze(
      Metric("sum(rate(demo_requests_total{version=\"v9\"}[1m])) / "
             "sum(rate(demo_requests_total[1m])) or vector(0)/vector(0)",
             "result[0] >= 0.95"));
  EXPECT_EQ(nan.phase(), v1::INCONCLUSIVE) << nan.message();
}

TEST_F(AnalyzerTest, BadPromQLIsAnErrorWithPrometheusOwnMessage) {
  v1::Measurement error =
      Analyze(Metric("sum(demo_success_rate", "result[0] >= 0.95"));
  EXPECT_EQ(error.phase(), v1::ERROR);
  EXPECT_NE(error.message().find("Prometheus: bad_data"), std::string::npos)
      << error.message();
  EXPECT_NE(error.message().find("parse error"), std::string::npos)
      << error.message();
}

TEST_F(AnalyzerTest, UnreachableAndSlowPrometheusAreErrors) {
  v1::Measurement down = Analyze(Metric(
      "up", "result[0] == 1", absl::StrCat("http://127.0.0.1:", FreePort())));
  EXPECT_EQ(down.phase(), v1::ERROR);
  EXPECT_NE(down.message().find("unreachable"), std::string::npos)
      << down.message();

  http::HttpServer slow;
  slow.Handle("/api/v1/query", [](const http::Request&) {
    absl::SleepFor(absl::Seconds(3));
    return http::Response{200, "application/json", "{}"};
  });
  const int port = *slow.Start("127.0.0.1:0");
  v1::Metric metric =
      Metric("up", "result[0] == 1", absl::StrCat("http://127.0.0.1:", port));
  metric.mutable_prometheus()->set_timeout_seconds(1);
  v1::Measurement timeout = Analyze(metric);
  EXPECT_EQ(timeout.phase(), v1::ERROR);
  EXPECT_NE(timeout.message().find("did not answer within 1s"),
            std::string::npos)
      << timeout.message();
}

TEST_F(AnalyzerTest, PrometheusStoppedIsAnError) {
  http::HttpServer exporter;
  exporter.Handle("/metrics", [] {
    return http::Response{200, "text/plain", "x 1\n"};
  });
  const int port = *exporter.Start("127.0.0.1:0");
  PrometheusProcess own({absl::StrCat("127.0.0.1:", port)});
  ASSERT_TRUE(own.WaitForData("x"));
  EXPECT_EQ(Analyze(Metric("x", "result[0] == 1", own.url())).phase(),
            v1::SUCCESSFUL);
  own.Kill9();
  v1::Measurement stopped = Analyze(Metric("x", "result[0] == 1", own.url()));
  EXPECT_EQ(stopped.phase(), v1::ERROR);
  EXPECT_NE(stopped.message().find("unreachable"), std::string::npos)
      << stopped.message();
}

TEST_F(AnalyzerTest, ArgsAreSubstitutedInQueryConditionAndAddress) {
  v1::Metric metric =
      Metric("demo_success_rate{version=\"{{args.version}}\"}",
             "result[0] >= {{args.min}}", "{{args.prometheus}}");
  v1::Measurement m = Analyze(
      metric,
      {{"version", "v2"}, {"min", "0.98"}, {"prometheus", prometheus_->url()}});
  EXPECT_EQ(m.phase(), v1::SUCCESSFUL) << m.message();
  v1::Measurement missing = Analyze(metric, {{"version", "v2"}});
  EXPECT_EQ(missing.phase(), v1::ERROR);
  EXPECT_NE(missing.message().find("no argument named"), std::string::npos)
      << missing.message();
}

TEST_F(AnalyzerTest, ValidateRefusesConditionsThatDoNotParseNamingTheMetric) {
  v1::AnalyzeRequest request;
  *request.add_metrics() = Metric("up", "result[0] >= ");
  request.mutable_metrics(0)->set_name("success-rate");
  grpc::ClientContext context;
  v1::ValidateResponse response;
  grpc::Status status = stub_->Validate(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find(
                "metric \"success-rate\" successCondition: expected a value"),
            std::string::npos)
      << status.error_message();
}

}  // namespace
}  // namespace smartcanary::testing
