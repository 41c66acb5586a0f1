// The latency-histogram judge against the real canary-analyzer and Debian's
// real Prometheus scraping Istio-shaped latency histograms: a canary whose
// median moved (tail unchanged) is Failed at the boundary that moved, while
// the one-objective preset at a high objective passes it; an equal canary
// is not failed.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "controller/http/http_server.h"
#include "google/protobuf/util/time_util.h"
#include "smartcanary/v1/analysis.grpc.pb.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::testing {
namespace {

using google::protobuf::util::TimeUtil;

const std::vector<double> kBoundariesMs = {10, 50, 250, 1000};
// Shares of requests slower than each boundary.
const std::vector<double> kBaselineSlower = {0.9, 0.3, 0.02, 0.005};
const std::vector<double> kShiftedSlower = {0.9, 0.5, 0.02, 0.005};

// One revision's histogram, `rps` requests a second since `start`.
std::string Histogram(absl::Time start, const std::string& revision, double rps,
                      const std::vector<double>& slower) {
  const double count = rps * absl::ToDoubleSeconds(absl::Now() - start);
  const std::string labels = absl::StrCat(
      "reporter=\"destination\",destination_service_name=\"checkout\","
      "destination_canonical_revision=\"",
      revision, "\"");
  std::string out;
  for (size_t b = 0; b < kBoundariesMs.size(); ++b) {
    absl::StrAppendFormat(
        &out, "istio_request_duration_milliseconds_bucket{%s,le=\"%g\"} %.0f\n",
        labels, kBoundariesMs[b], count * (1 - slower[b]));
  }
  absl::StrAppendFormat(
      &out,
      "istio_request_duration_milliseconds_bucket{%s,le=\"+Inf\"} %.0f\n"
      "istio_request_duration_milliseconds_count{%s} %.0f\n",
      labels, count, labels, count);
  return out;
}

class HistogramTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    start_ = absl::Now();
    exporter_ = new http::HttpServer();
    exporter_->Handle("/metrics", [] {
      // v1 the baseline; v2 a canary whose median moved; v3 an equal one;
      // each canary at a quarter of v1's traffic (weight 20).
      return http::Response{
          200, "text/plain; version=0.0.4",
          absl::StrCat("# TYPE istio_request_duration_milliseconds histogram\n",
                       Histogram(start_, "v1", 800, kBaselineSlower),
                       Histogram(start_, "v2", 200, kShiftedSlower),
                       Histogram(start_, "v3", 200, kBaselineSlower))};
    });
    const int exporter_port = *exporter_->Start("127.0.0.1:0");
    prometheus_ =
        new PrometheusProcess({absl::StrCat("127.0.0.1:", exporter_port)});
    analyzer_port_ = FreePort();
    analyzer_ = new ChildProcess("canary-analyzer-histogram",
                                 LocalAnalyzerArgv(analyzer_port_));
    // 30 scrapes (1 s apart): six 5 s intervals to judge.
    ASSERT_TRUE(prometheus_->WaitForData(
        "count_over_time(istio_request_duration_milliseconds_count{"
        "destination_canonical_revision=\"v2\"}[5m]) >= 30",
        absl::Seconds(180)));
  }
  static void TearDownTestSuite() {
    delete analyzer_;
    delete prometheus_;
    delete exporter_;
  }

  // One live measurement of canary `revision` against v1, as canaryd asks.
  static v1::Measurement Analyze(const std::string& revision,
                                 const std::string& event) {
    v1::AnalyzeRequest request;
    v1::Metric* metric = request.add_metrics();
    metric->set_name("latency");
    v1::ComparativeProvider* p = metric->mutable_comparative();
    p->mutable_prometheus()->set_address(prometheus_->url());
    p->mutable_istio()->set_service("checkout");
    p->mutable_istio()->set_event(event);
    if (event == "latency-histogram") {
      for (double b : kBoundariesMs)
        p->mutable_istio()->add_latency_buckets_ms(b);
    } else {
      p->mutable_istio()->set_latency_objective_ms(250);
    }
    (*p->mutable_istio()->mutable_canary())["destination_canonical_revision"] =
        revision;
    (*p->mutable_istio()
          ->mutable_baseline())["destination_canonical_revision"] = "v1";
    p->set_alpha(0.01);
    p->set_margin(0.25);
    p->set_max_burst(5);
    p->set_resolution_seconds(5);
    p->set_budget_share(1);
    // From two seconds in (the first scrapes are in), weight 20 throughout.
    const absl::Time from = start_ + absl::Seconds(2);
    *request.mutable_context()->mutable_analysis_started_at() =
        TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(from));
    v1::WeightChange* weight = request.mutable_context()->add_weight_timeline();
    *weight->mutable_at() =
        TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(from));
    weight->set_canary_weight(20);

    auto channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", analyzer_port_),
                            grpc::InsecureChannelCredentials());
    auto stub = v1::AnalysisService::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(120));
    v1::AnalyzeResponse response;
    const grpc::Status status = stub->Analyze(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.measurements_size(), 1);
    return response.measurements_size() == 1 ? response.measurements(0)
                                             : v1::Measurement();
  }

  static absl::Time start_;
  static http::HttpServer* exporter_;
  static PrometheusProcess* prometheus_;
  static int analyzer_port_;
  static ChildProcess* analyzer_;
};

absl::Time HistogramTest::start_;
http::HttpServer* HistogramTest::exporter_ = nullptr;
PrometheusProcess* HistogramTest::prometheus_ = nullptr;
int HistogramTest::analyzer_port_ = 0;
ChildProcess* HistogramTest::analyzer_ = nullptr;

TEST_F(HistogramTest, AMedianShiftFailsWhereOneHighObjectivePasses) {
  const v1::Measurement histogram = Analyze("v2", "latency-histogram");
  EXPECT_EQ(histogram.phase(), v1::FAILED) << histogram.message();
  EXPECT_NE(histogram.message().find("worst at le=50ms"), std::string::npos)
      << histogram.message();
  EXPECT_NE(histogram.message().find("(maxBurst)"), std::string::npos);
  // The tail at 250 ms did not move: the one-objective preset passes it.
  const v1::Measurement one = Analyze("v2", "slower-than");
  EXPECT_EQ(one.phase(), v1::SUCCESSFUL) << one.message();
}

TEST_F(HistogramTest, AnEqualCanaryIsNotFailed) {
  const v1::Measurement m = Analyze("v3", "latency-histogram");
  EXPECT_EQ(m.phase(), v1::SUCCESSFUL) << m.message();
  EXPECT_NE(m.message().find("latency histogram over 4 boundaries"),
            std::string::npos)
      << m.message();
}

}  // namespace
}  // namespace smartcanary::testing
