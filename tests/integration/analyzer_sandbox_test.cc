// canary-analyzer as a sandbox: what a template may make it fetch, which
// files it may read, who may call it, and what a hostile answer does. The
// analyzer is the real binary; Prometheus Debian's; hostile servers are
// scripted byte for byte.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "controller/http/http_server.h"
#include "google/protobuf/util/time_util.h"
#include "smartcanary/v1/analysis.grpc.pb.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/unit/scripted_http_server.h"

namespace smartcanary::testing {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kToken[] = "canaryd-shared-token-for-tests";

// A vector answer Prometheus would give for one sample of `value`.
std::string VectorBody(const std::string& items) {
  return absl::StrCat(
      R"({"status":"success","data":{"resultType":"vector","result":[)", items,
      "]}}");
}

class AnalyzerSandboxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char base[] = "/tmp/analyzer-sandbox-XXXXXX";
    ASSERT_NE(mkdtemp(base), nullptr);
    dir_ = new std::string(base);
    ASSERT_EQ(mkdir(CredentialsDir().c_str(), 0700), 0);
    std::ofstream(*dir_ + "/client-token") << kToken << "\n";
    std::ofstream(CredentialsDir() + "/prom-token") << "file-token\n";
    ASSERT_EQ(symlink("/etc/passwd", (CredentialsDir() + "/escape").c_str()),
              0);
    exporter_ = new http::HttpServer();
    exporter_->Handle("/metrics", [] {
      return http::Response{200, "text/plain; version=0.0.4",
                            "# TYPE sandbox_up gauge\nsandbox_up 1\n"};
    });
    const int exporter_port = *exporter_->Start("127.0.0.1:0");
    prometheus_ =
        new PrometheusProcess({absl::StrCat("127.0.0.1:", exporter_port)});
    ASSERT_TRUE(prometheus_->WaitForData("sandbox_up"));
    analyzer_port_ = FreePort();
    analyzer_ = new ChildProcess(
        "canary-analyzer-sandbox",
        LocalAnalyzerArgv(analyzer_port_,
                          {"--client-token-file=" + *dir_ + "/client-token",
                           "--credentials-dir=" + CredentialsDir()}));
  }
  static void TearDownTestSuite() {
    delete analyzer_;
    delete prometheus_;
    delete exporter_;
    EXPECT_EQ(std::system(("rm -rf " + *dir_).c_str()), 0);
    delete dir_;
  }
  static std::string CredentialsDir() { return *dir_ + "/credentials"; }

  AnalyzerSandboxTest() { stub_ = StubFor(analyzer_port_); }

  static std::unique_ptr<v1::AnalysisService::Stub> StubFor(int port) {
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                       grpc::InsecureChannelCredentials());
    EXPECT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() +
                                          std::chrono::seconds(30)));
    return v1::AnalysisService::NewStub(channel);
  }

  static v1::Metric Metric(const std::string& address,
                           const std::string& query = "sandbox_up") {
    v1::Metric metric;
    metric.set_name("m");
    metric.mutable_prometheus()->set_address(address);
    metric.mutable_prometheus()->set_query(query);
    metric.set_success_condition("result[0] == 1");
    return metric;
  }

  // One measurement, calling as canaryd does (with the shared token).
  v1::Measurement Analyze(const v1::Metric& metric,
                          v1::AnalysisService::Stub* stub = nullptr) {
    v1::AnalyzeRequest request;
    *request.add_metrics() = metric;
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    v1::AnalyzeResponse response;
    grpc::Status status = (stub != nullptr ? stub : stub_.get())
                              ->Analyze(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.measurements_size(), 1);
    return response.measurements_size() == 1 ? response.measurements(0)
                                             : v1::Measurement();
  }

  // The analyzer still answers a good measurement: nothing above crashed it.
  void ExpectStillServing() {
    EXPECT_FALSE(analyzer_->Exited());
    v1::Measurement good = Analyze(Metric(prometheus_->url()));
    EXPECT_EQ(good.phase(), v1::SUCCESSFUL) << good.message();
  }

  static std::string* dir_;
  static http::HttpServer* exporter_;
  static PrometheusProcess* prometheus_;
  static int analyzer_port_;
  static ChildProcess* analyzer_;
  std::unique_ptr<v1::AnalysisService::Stub> stub_;
};

std::string* AnalyzerSandboxTest::dir_ = nullptr;
http::HttpServer* AnalyzerSandboxTest::exporter_ = nullptr;
PrometheusProcess* AnalyzerSandboxTest::prometheus_ = nullptr;
int AnalyzerSandboxTest::analyzer_port_ = 0;
ChildProcess* AnalyzerSandboxTest::analyzer_ = nullptr;

TEST_F(AnalyzerSandboxTest, CallersWithoutTheSharedTokenAreUnauthenticated) {
  v1::AnalyzeRequest request;
  *request.add_metrics() = Metric(prometheus_->url());
  for (const std::string& header :
       {std::string(), std::string("Bearer wrong"),
        absl::StrCat("Bearer ", kToken, "x"), absl::StrCat("Basic ", kToken),
        std::string(kToken)}) {
    grpc::ClientContext analyze;
    if (!header.empty()) analyze.AddMetadata("authorization", header);
    v1::AnalyzeResponse response;
    grpc::Status status = stub_->Analyze(&analyze, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << header;
    EXPECT_EQ(response.measurements_size(), 0);
    grpc::ClientContext validate;
    if (!header.empty()) validate.AddMetadata("authorization", header);
    v1::ValidateResponse validated;
    EXPECT_EQ(stub_->Validate(&validate, request, &validated).error_code(),
              grpc::StatusCode::UNAUTHENTICATED)
        << header;
  }
  ExpectStillServing();
}

TEST_F(AnalyzerSandboxTest, FileUrlIsRefusedAndNoFileContentLeaks) {
  for (const char* address :
       {"file:///etc/passwd#", "file:///etc/passwd", "gopher://127.0.0.1:70/",
        "http://user:pw@127.0.0.1:9/"}) {
    v1::Measurement m = Analyze(Metric(address));
    EXPECT_EQ(m.phase(), v1::ERROR) << address;
    EXPECT_NE(m.message().find("provider.prometheus.address"),
              std::string::npos)
        << m.message();
    EXPECT_EQ(m.message().find("root:"), std::string::npos) << m.message();
  }
  v1::AnalyzeRequest request;
  *request.add_metrics() = Metric("file:///etc/passwd#");
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
  v1::ValidateResponse response;
  grpc::Status status = stub_->Validate(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("http:// or https://"),
            std::string::npos)
      << status.error_message();
}

TEST_F(AnalyzerSandboxTest, AddressesOutsideTheAllowlistAreRefused) {
  v1::Measurement metadata =
      Analyze(Metric("http://169.254.169.254/latest/meta-data"));
  EXPECT_EQ(metadata.phase(), v1::ERROR);
  EXPECT_NE(metadata.message().find("link-local"), std::string::npos)
      << metadata.message();
  v1::Measurement outside = Analyze(Metric("http://192.0.2.1:9090"));
  EXPECT_EQ(outside.phase(), v1::ERROR);
  EXPECT_NE(outside.message().find("--allowed-prometheus"), std::string::npos)
      << outside.message();
  // "localhost" resolves to loopback, which this analyzer's list allows.
  v1::Measurement named = Analyze(Metric(
      absl::StrReplaceAll(prometheus_->url(), {{"127.0.0.1", "localhost"}})));
  EXPECT_EQ(named.phase(), v1::SUCCESSFUL) << named.message();
}

TEST_F(AnalyzerSandboxTest, TheDefaultAllowlistRefusesLoopback) {
  const int port = FreePort();
  ChildProcess analyzer("canary-analyzer-default-allowlist",
                        {RunfilePath("analysis/canary-analyzer"),
                         absl::StrCat("--grpc-listen=127.0.0.1:", port),
                         "--client-token-file=" + *dir_ + "/client-token"});
  auto stub = StubFor(port);
  v1::Measurement m = Analyze(Metric(prometheus_->url()), stub.get());
  EXPECT_EQ(m.phase(), v1::ERROR);
  EXPECT_NE(m.message().find("is loopback"), std::string::npos) << m.message();
}

TEST_F(AnalyzerSandboxTest, WithTlsPlaintextCallersGetNoAnswer) {
  WriteLocalhostCertificate(*dir_);
  const int port = FreePort();
  ChildProcess analyzer(
      "canary-analyzer-tls",
      LocalAnalyzerArgv(port, {"--client-token-file=" + *dir_ + "/client-token",
                               "--tls-cert-file=" + *dir_ + "/tls.crt",
                               "--tls-key-file=" + *dir_ + "/tls.key"}));
  std::ifstream in(*dir_ + "/tls.crt");
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs.assign(std::istreambuf_iterator<char>(in), {});
  auto tls_channel = grpc::CreateChannel(absl::StrCat("localhost:", port),
                                         grpc::SslCredentials(ssl));
  ASSERT_TRUE(tls_channel->WaitForConnected(std::chrono::system_clock::now() +
                                            std::chrono::seconds(30)));
  auto tls = v1::AnalysisService::NewStub(tls_channel);
  EXPECT_EQ(Analyze(Metric(prometheus_->url()), tls.get()).phase(),
            v1::SUCCESSFUL);

  auto plain = v1::AnalysisService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  v1::AnalyzeRequest request;
  *request.add_metrics() = Metric(prometheus_->url());
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  v1::AnalyzeResponse response;
  grpc::Status status = plain->Analyze(&context, request, &response);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(response.measurements_size(), 0);
}

TEST_F(AnalyzerSandboxTest, CredentialFilesOnlyFromTheCredentialsDirectory) {
  ScriptedHttpServer server(
      InTurn({HttpReply(200, VectorBody(R"({"value":[1,"1"]})"))}));
  for (const auto& [file, why] : {std::pair{"/etc/shadow", "--credentials-dir"},
                                  {"../client-token", "\"..\""},
                                  {"escape", "symbolic link"}}) {
    v1::Metric metric = Metric(server.url());
    metric.mutable_prometheus()->set_bearer_token_file(file);
    v1::Measurement m = Analyze(metric);
    EXPECT_EQ(m.phase(), v1::ERROR) << file;
    EXPECT_NE(m.message().find("provider.prometheus.bearerTokenFile"),
              std::string::npos)
        << m.message();
    EXPECT_NE(m.message().find(why), std::string::npos) << m.message();
  }
  EXPECT_TRUE(server.requests().empty());

  v1::Metric allowed = Metric(server.url());
  allowed.mutable_prometheus()->set_bearer_token_file("prom-token");
  EXPECT_EQ(Analyze(allowed).phase(), v1::SUCCESSFUL);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].headers.at("authorization"),
            "Bearer file-token");
}

TEST_F(AnalyzerSandboxTest, MalformedAnswersAreErrorsAndTheAnalyzerStaysUp) {
  std::string binary(4096, '\0');
  for (size_t i = 0; i < binary.size(); ++i)
    binary[i] = static_cast<char>(i * 31);
  const struct {
    Reply reply;
    std::string expected;
  } cases[] = {
      {HttpReply(200, VectorBody(R"({"metric":{}})")),
       "data.result[0].value: is missing"},
      {HttpReply(200, VectorBody(R"({"value":[1,{"x":1}]})")),
       "must be a string"},
      {HttpReply(200, VectorBody(R"({"value":[1,"twelve"]})")),
       "is not a number"},
      {HttpReply(200, std::string(100000, '[')), "nests deeper"},
      {HttpReply(200, std::string(size_t{50} << 20, ' ')), "cap"},
      {HttpReply(500, binary), "answered HTTP 500"},
  };
  for (const auto& c : cases) {
    ScriptedHttpServer server(InTurn({c.reply}));
    v1::Measurement m = Analyze(Metric(server.url()));
    EXPECT_EQ(m.phase(), v1::ERROR) << c.expected;
    EXPECT_NE(m.message().find(c.expected), std::string::npos) << m.message();
    EXPECT_LT(m.message().size(), 600u);
    for (char ch : m.message())
      EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << static_cast<int>(ch);
  }
  ExpectStillServing();
}

TEST_F(AnalyzerSandboxTest, AnEmptySampleInARangeAnswerIsAnError) {
  ScriptedHttpServer server(InTurn({HttpReply(
      200, R"({"status":"success","data":{"resultType":"matrix","result":[)"
           R"({"metric":{},"values":[[]]}]}})")}));
  v1::Metric metric;
  metric.set_name("comparative");
  v1::ComparativeProvider* provider = metric.mutable_comparative();
  provider->mutable_prometheus()->set_address(server.url());
  provider->set_canary_events("a");
  provider->set_canary_requests("b");
  provider->set_baseline_events("c");
  provider->set_baseline_requests("d");
  provider->set_alpha(0.01);
  provider->set_margin(0.25);
  provider->set_resolution_seconds(5);
  v1::AnalyzeRequest request;
  *request.add_metrics() = metric;
  const absl::Time start = absl::Now() - absl::Minutes(2);
  *request.mutable_context()->mutable_analysis_started_at() =
      TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(start));
  v1::WeightChange* change = request.mutable_context()->add_weight_timeline();
  *change->mutable_at() =
      TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(start));
  change->set_canary_weight(10);
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
  v1::AnalyzeResponse response;
  ASSERT_TRUE(stub_->Analyze(&context, request, &response).ok());
  ASSERT_EQ(response.measurements_size(), 1);
  EXPECT_EQ(response.measurements(0).phase(), v1::ERROR);
  EXPECT_NE(response.measurements(0).message().find("data.result[0].values[0]"),
            std::string::npos)
      << response.measurements(0).message();
  ExpectStillServing();
}

}  // namespace
}  // namespace smartcanary::testing
