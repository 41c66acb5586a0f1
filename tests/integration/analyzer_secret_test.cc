// A template's secretKeyRef credential, end to end: canaryd reads the
// Secret from the real API server in the rollout's own namespace, hands the
// value to the real canary-analyzer over TLS with the shared token, and the
// analyzer sends it to "Prometheus" (a scripted server recording headers).
// The value is never written to the rollout's status, and a Secret of the
// same name in another namespace is never used.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "controller/kube/resources.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/unit/scripted_http_server.h"

namespace smartcanary::testing {
namespace {

constexpr char kAnalyzerToken[] = "analyzer-token-of-this-test";
constexpr char kTeamToken[] = "team-a-prometheus-token";
constexpr char kOtherToken[] = "other-namespace-token";

std::string SecretYaml(const std::string& name, const std::string& value) {
  return absl::StrCat(R"(apiVersion: v1
kind: Secret
metadata: {name: )",
                      name, R"(}
data: {token: )",
                      absl::Base64Escape(value), "}\n");
}

std::string TemplateYaml(const std::string& name, const std::string& address,
                         const std::string& secret) {
  return absl::StrCat(R"(apiVersion: smartcanary.dev/v1alpha1
kind: CanaryAnalysisTemplate
metadata: {name: )",
                      name, R"(}
spec:
  metrics:
  - name: authorized
    successCondition: result[0] == 1
    provider:
      prometheus:
        address: )",
                      address, R"(
        query: up
        bearerToken:
          secretKeyRef: {name: )",
                      secret, R"(, key: token}
)");
}

class AnalyzerSecretTest : public ::testing::Test {
 protected:
  AnalyzerSecretTest() {
    char base[] = "/tmp/analyzer-secret-XXXXXX";
    EXPECT_NE(mkdtemp(base), nullptr);
    dir_ = base;
    std::ofstream(dir_ + "/token") << kAnalyzerToken << "\n";
    WriteLocalhostCertificate(dir_);
    ns_.Apply(SubsetMeshYaml("app"));
    ns_.Apply(SecretYaml("prom-auth", kTeamToken));
    other_.Apply(SecretYaml("only-elsewhere", kOtherToken));
    ns_.Apply(TemplateYaml("with-secret", prometheus_.url(), "prom-auth"));
    ns_.Apply(
        TemplateYaml("secret-elsewhere", prometheus_.url(), "only-elsewhere"));
    analyzer_ = std::make_unique<ChildProcess>(
        "analyzer-" + ns_.name(),
        LocalAnalyzerArgv(analyzer_port_,
                          {"--client-token-file=" + dir_ + "/token",
                           "--tls-cert-file=" + dir_ + "/tls.crt",
                           "--tls-key-file=" + dir_ + "/tls.key"}));
    canaryd_ = std::make_unique<CanarydProcess>(
        ns_.name(), std::vector<std::string>{
                        absl::StrCat("--analyzer=localhost:", analyzer_port_),
                        "--analyzer-token-file=" + dir_ + "/token",
                        "--analyzer-ca-file=" + dir_ + "/tls.crt"});
  }
  ~AnalyzerSecretTest() override {
    canaryd_.reset();
    analyzer_.reset();
    EXPECT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }

  void Start(const std::string& template_name) {
    v1::StartRolloutRequest request;
    request.set_namespace_(ns_.name());
    request.set_name("app");
    v1::RolloutSpec* spec = request.mutable_spec();
    spec->mutable_traffic_routing()->set_virtual_service("app");
    spec->mutable_traffic_routing()->set_destination_rule("app");
    spec->mutable_traffic_routing()->set_stable_subset("stable");
    spec->mutable_traffic_routing()->set_canary_subset("canary");
    (*spec->mutable_canary_labels())["version"] = "v2";
    *spec->add_steps() = SetWeightStep(10);
    v1::Step analysis;
    analysis.mutable_analysis()->add_templates()->set_template_name(
        template_name);
    *spec->add_steps() = analysis;
    *spec->add_steps() = PauseStep();
    grpc::ClientContext context;
    v1::Rollout rollout;
    grpc::Status status =
        canaryd_->Stub()->StartRollout(&context, request, &rollout);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  v1::Rollout Get() {
    grpc::ClientContext context;
    v1::RolloutRef ref;
    ref.set_namespace_(ns_.name());
    ref.set_name("app");
    v1::Rollout rollout;
    canaryd_->Stub()->GetRollout(&context, ref, &rollout);
    return rollout;
  }

  // Every measurement message of the rollout's analysis runs.
  std::string Messages() {
    std::string all;
    const v1::Rollout rollout = Get();
    for (const v1::AnalysisRunStatus& run : rollout.analysis_runs()) {
      for (const v1::MetricStatus& metric : run.metrics()) {
        absl::StrAppend(&all, metric.last_message(), "\n");
        for (const v1::RecentMeasurement& m : metric.recent())
          absl::StrAppend(&all, m.message(), "\n");
      }
    }
    return all;
  }

  // The CanaryRollout object as stored in etcd, and its events.
  std::string Stored() {
    auto object = Kube().Get(kube::kCanaryRollouts.Item(ns_.name(), "app"));
    auto events =
        Kube().List(absl::StrCat("/api/v1/namespaces/", ns_.name(), "/events"));
    std::string all = object.ok() ? object->dump() : "";
    if (events.ok())
      for (const auto& event : events->items) all += event.dump();
    return all;
  }

  std::vector<std::string> AuthorizationsSeen() const {
    std::vector<std::string> seen;
    for (const SeenRequest& request : prometheus_.requests()) {
      auto it = request.headers.find("authorization");
      seen.push_back(it == request.headers.end() ? "" : it->second);
    }
    return seen;
  }

  ScriptedHttpServer prometheus_{InTurn({HttpReply(
      200, R"({"status":"success","data":{"resultType":"vector","result":[)"
           R"({"metric":{},"value":[1,"1"]}]}})")})};
  TestNamespace ns_;
  TestNamespace other_;
  std::string dir_;
  int analyzer_port_ = FreePort();
  std::unique_ptr<ChildProcess> analyzer_;
  std::unique_ptr<CanarydProcess> canaryd_;
};

TEST_F(AnalyzerSecretTest, TheSecretFromTheRolloutNamespaceReachesPrometheus) {
  Start("with-secret");
  ASSERT_TRUE(WaitFor([&] { return !AuthorizationsSeen().empty(); }))
      << Messages();
  for (const std::string& header : AuthorizationsSeen())
    EXPECT_EQ(header, absl::StrCat("Bearer ", kTeamToken));
  ASSERT_TRUE(WaitFor([&] {
    return Messages().find("is true") != std::string::npos;
  })) << Messages();
  EXPECT_EQ(Stored().find(kTeamToken), std::string::npos);
  EXPECT_EQ(Stored().find(kAnalyzerToken), std::string::npos);
}

TEST_F(AnalyzerSecretTest, ASecretInAnotherNamespaceIsNeverUsed) {
  Start("secret-elsewhere");
  const std::string expected =
      absl::StrCat("provider.prometheus.bearerToken: Secret ", ns_.name(),
                   "/only-elsewhere key token: no such Secret");
  ASSERT_TRUE(WaitFor([&] {
    return Messages().find(expected) != std::string::npos;
  })) << Messages();
  EXPECT_TRUE(prometheus_.requests().empty());
  EXPECT_EQ(Stored().find(kOtherToken), std::string::npos);
}

TEST_F(AnalyzerSecretTest, AdmissionRefusesOtherSchemesAndBadSecretNames) {
  const std::string collection =
      kube::kAnalysisTemplates.Collection(ns_.name());
  auto file = Kube().Post(
      collection,
      nlohmann::json::parse(R"({"apiVersion": "smartcanary.dev/v1alpha1",
        "kind": "CanaryAnalysisTemplate", "metadata": {"name": "file"},
        "spec": {"metrics": [{"name": "m", "successCondition": "true",
          "provider": {"prometheus": {"address": "file:///etc/passwd#",
                                      "query": "up"}}}]}})"));
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.status().message().find("address"), std::string::npos)
      << file.status();
  auto escape = Kube().Post(
      collection,
      nlohmann::json::parse(R"({"apiVersion": "smartcanary.dev/v1alpha1",
        "kind": "CanaryAnalysisTemplate", "metadata": {"name": "escape"},
        "spec": {"metrics": [{"name": "m", "successCondition": "true",
          "provider": {"prometheus": {"address": "http://p.svc", "query": "up",
            "bearerToken": {"secretKeyRef": {"name": "../../kube-system/x",
                                             "key": "token"}}}}}]}})"));
  ASSERT_FALSE(escape.ok());
  EXPECT_NE(escape.status().message().find("secretKeyRef.name"),
            std::string::npos)
      << escape.status();
}

}  // namespace
}  // namespace smartcanary::testing
