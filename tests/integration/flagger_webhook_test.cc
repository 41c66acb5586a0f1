// Flagger's webhook contract against the real analyzer and Debian's
// Prometheus: the documented Canary's webhook (docs/interop/
// flagger-canary.yaml, shown verbatim in docs/INTEROP.md) posted as Flagger
// posts it. 2xx passes a check, anything else fails it.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/files.h"
#include "nlohmann/json.hpp"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/istio_exporter.h"

namespace smartcanary::testing {
namespace {

using json = nlohmann::json;

std::string FileText(const std::string& path) {
  return smartcanary::ReadFile(path).value_or("");
}

struct Answer {
  int status = 0;
  json body;
};

class FlaggerWebhookTest : public ::testing::Test {
 protected:
  static constexpr size_t kCanary = 0;  // podinfo; podinfo-primary is 1

  void SetUp() override {
    const std::string yaml_text =
        FileText(RunfilePath("docs/interop/flagger-canary.yaml"));
    ASSERT_FALSE(yaml_text.empty());
    // The doc shows the file as it is: they cannot drift apart.
    EXPECT_NE(FileText(RunfilePath("docs/INTEROP.md")).find(yaml_text),
              std::string::npos)
        << "docs/INTEROP.md must quote docs/interop/flagger-canary.yaml";
    canary_ = YAML::Load(yaml_text);
    webhook_ = canary_["spec"]["analysis"]["webhooks"][0];
    ASSERT_EQ(webhook_["type"].as<std::string>(), "rollout");
    // The workloads the documented queries select, both failing 1%.
    exporter_ = std::make_unique<IstioExporter>(
        std::vector<IstioArm>{{{{"destination_workload_namespace", "test"},
                                {"destination_workload", "podinfo"}}},
                              {{{"destination_workload_namespace", "test"},
                                {"destination_workload", "podinfo-primary"}}}});
    prometheus_ = std::make_unique<PrometheusProcess>(
        std::vector<std::string>{exporter_->target()});
    ASSERT_TRUE(prometheus_->WaitForData(
        "istio_requests_total{destination_workload=\"podinfo\"}"));
    const int http_port = FreePort();
    analyzer_ = std::make_unique<ChildProcess>(
        "canary-analyzer",
        LocalAnalyzerArgv(FreePort(),
                          {absl::StrCat("--http-listen=127.0.0.1:", http_port),
                           "--http-allow-unauthenticated"}));
    // The documented URL's path on the test's analyzer.
    std::string path = webhook_["url"].as<std::string>();
    path = path.substr(path.find('/', path.find("//") + 2));
    url_ = absl::StrCat("http://127.0.0.1:", http_port, path);
    metrics_url_ = absl::StrCat("http://127.0.0.1:", http_port, "/metrics");
    ASSERT_TRUE(WaitFor([&] { return Post("{}").status == 400; }));
  }

  // Flagger's payload for a rollout hook: the Canary's name and namespace,
  // its phase, the pod template's checksum and the webhook's metadata (the
  // Prometheus address swapped for the test's).
  json Payload() const {
    json metadata = json::object();
    for (const auto& entry : webhook_["metadata"]) {
      metadata[entry.first.as<std::string>()] = entry.second.as<std::string>();
    }
    metadata["prometheus"] = prometheus_->url();
    return {{"name", canary_["metadata"]["name"].as<std::string>()},
            {"namespace", canary_["metadata"]["namespace"].as<std::string>()},
            {"phase", "Progressing"},
            {"checksum", "6d9f8c5b7"},
            {"metadata", metadata}};
  }

  Answer Post(const std::string& body) const {
    const HttpAnswer answer =
        HttpPost(url_, body, {"Content-Type: application/json"});
    return {answer.status,
            json::parse(answer.body, nullptr, /*allow_exceptions=*/false)};
  }

  YAML::Node canary_, webhook_;
  std::unique_ptr<IstioExporter> exporter_;
  std::unique_ptr<PrometheusProcess> prometheus_;
  std::unique_ptr<ChildProcess> analyzer_;
  std::string url_, metrics_url_;
};

TEST_F(FlaggerWebhookTest, GoodCanaryPassesAndARegressionFails) {
  Answer good;
  // 200 once the canary's first interval has closed (before: no data, 503).
  ASSERT_TRUE(WaitFor([&] {
    good = Post(Payload().dump());
    return good.status == 200;
  })) << good.status
      << " " << good.body.dump();
  EXPECT_EQ(good.body["verdict"], "Pass");
  EXPECT_GT(good.body["evidence"]["canary"]["requests"].get<double>(), 0);

  // The canary starts failing a fifth of its requests: the check fails with
  // 412 once the evidence is in, the e-value past its threshold.
  exporter_->SetErrorShare(kCanary, 0.2);
  Answer bad;
  ASSERT_TRUE(WaitFor(
      [&] {
        bad = Post(Payload().dump());
        return bad.status == 412;
      },
      absl::Seconds(180)))
      << bad.status << " " << bad.body.dump();
  EXPECT_EQ(bad.body["verdict"], "Fail");
  EXPECT_GT(bad.body["evidence"]["eValueWorse"].get<double>(),
            bad.body["evidence"]["thresholdWorse"].get<double>());
  EXPECT_GT(bad.body["evidence"]["ratioInterval"][0].get<double>(), 1.25);
}

TEST_F(FlaggerWebhookTest, MalformedPayloadsAreRefusedNamingTheField) {
  json wrong_type = Payload();
  wrong_type["metadata"]["alpha"] = 0.01;  // Flagger sends strings only
  json no_window = Payload();
  no_window["metadata"].erase("window");
  json unknown = Payload();
  unknown["metadata"]["threshold"] = "5";
  json not_allowed = Payload();
  not_allowed["metadata"]["prometheus"] = "http://169.254.169.254";
  const std::vector<std::tuple<std::string, int, std::string>> cases = {
      {"not json", 400, "body: is not JSON"},
      {"[]", 400, "body: must be a JSON object"},
      {R"({"name":"podinfo","namespace":"test"})", 400,
       "metadata: is required"},
      {wrong_type.dump(), 400, "metadata.alpha: must be a string"},
      {no_window.dump(), 400, "metadata.window: is required"},
      {unknown.dump(), 400, "metadata.threshold: unknown field"},
      {not_allowed.dump(), 400, "comparative.prometheus.address"},
      // Over the 64 KiB body cap: refused before it is read.
      {std::string(70 * 1024, ' '), 413, ""},
  };
  for (const auto& [body, status, names] : cases) {
    const Answer answer = Post(body);
    EXPECT_EQ(answer.status, status) << body.substr(0, 200);
    if (names.empty()) continue;
    ASSERT_TRUE(answer.body.is_object()) << body.substr(0, 200);
    EXPECT_NE(answer.body.value("error", "").find(names), std::string::npos)
        << answer.body.dump();
  }
  // Still serving after all of that, and counting it on /metrics.
  EXPECT_NE(Post(Payload().dump()).status, 0);
  // Seven 400s above and SetUp's readiness probe (the 413 is refused by
  // the server before any handler).
  const std::string metrics = HttpGet(metrics_url_);
  EXPECT_NE(metrics.find("canary_analyzer_requests_total{api=\"http\","
                         "endpoint=\"/v1/flagger\",code=\"400\"} 8"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("canary_analyzer_prometheus_query_seconds_count{"
                         "path=\"/api/v1/query_range\"}"),
            std::string::npos)
      << metrics;
  EXPECT_TRUE(analyzer_->running());
  EXPECT_FALSE(analyzer_->Exited());
}

}  // namespace
}  // namespace smartcanary::testing
