// Hostile input against the real API server, canaryd, canary-analyzer and
// Debian's Prometheus: names that try to leave their namespace are refused at
// admission, by the parser and by the RolloutService; templates with wrong
// types, a Unicode minus or deep nesting fail their own rollout with a field
// error while both daemons stay up and another rollout completes.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "cli/manifest.h"
#include "controller/canary_rollout.h"
#include "controller/kube/resources.h"
#include "smartcanary/v1/analysis.grpc.pb.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::testing {
namespace {

using nlohmann::json;

constexpr char kUnicodeMinus[] = "\xE2\x88\x92";  // U+2212

// A rollout of NAME's mesh objects whose analysis step uses TEMPLATE.
std::string RolloutYaml(const std::string& name, const std::string& templ) {
  return absl::StrReplaceAll(R"(apiVersion: smartcanary.dev/v1alpha1
kind: CanaryRollout
metadata: {name: NAME}
spec:
  canaryLabels: {version: v2}
  trafficRouting:
    istio:
      virtualService: {name: NAME}
      destinationRule: {name: NAME, stableSubsetName: stable, canarySubsetName: canary}
  steps:
  - setWeight: 20
  - analysis: {templates: [{templateName: TEMPLATE}]}
  - setWeight: 100
)",
                             {{"NAME", name}, {"TEMPLATE", templ}});
}

// A template with one Prometheus metric measured once.
std::string TemplateYaml(const std::string& name, const std::string& condition,
                         const std::string& prometheus) {
  return absl::StrCat(R"(apiVersion: smartcanary.dev/v1alpha1
kind: CanaryAnalysisTemplate
metadata: {name: )",
                      name, R"(}
spec:
  metrics:
  - name: always
    count: 1
    successCondition: ")",
                      condition, R"("
    provider:
      prometheus: {address: ")",
                      prometheus, R"yaml(", query: "vector(1)"}
)yaml");
}

class HostileInputTest : public ::testing::Test {
 protected:
  HostileInputTest() {
    analyzer_ = std::make_unique<ChildProcess>(
        "hostile-analyzer-" + ns_.name(), LocalAnalyzerArgv(analyzer_port_));
    canaryd_ = std::make_unique<CanarydProcess>(
        ns_.name(), std::vector<std::string>{
                        absl::StrCat("--analyzer=127.0.0.1:", analyzer_port_)});
    // The analysis query is vector(1): Prometheus only has to answer.
    prometheus_ = std::make_unique<PrometheusProcess>(
        std::vector<std::string>{absl::StrCat("127.0.0.1:", FreePort())});
    analyzer_stub_ = v1::AnalysisService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", analyzer_port_),
                            grpc::InsecureChannelCredentials()));
  }

  json Status(const std::string& name) {
    auto object = Kube().Get(kube::kCanaryRollouts.Item(ns_.name(), name));
    if (!object.ok()) return json();
    return object->value("status", json::object());
  }

  // Both daemons are the processes the test started, and canaryd says it
  // is alive.
  void ExpectBothUp() {
    EXPECT_FALSE(analyzer_->Exited()) << "the analyzer ended";
    EXPECT_FALSE(canaryd_->Exited()) << "canaryd ended";
    std::string healthz = canaryd_->metrics_url();
    healthz.replace(healthz.rfind("/metrics"), 8, "/healthz");
    EXPECT_EQ(HttpGet(healthz), "ok\n");
    v1::AnalyzeRequest request;
    v1::Metric* metric = request.add_metrics();
    metric->set_name("m");
    metric->set_success_condition("result[0] >= 1");
    metric->mutable_prometheus()->set_address(prometheus_->url());
    metric->mutable_prometheus()->set_query("vector(1)");
    EXPECT_TRUE(Validate(request).ok()) << "the analyzer answers";
  }

  grpc::Status Validate(const v1::AnalyzeRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    v1::ValidateResponse response;
    return analyzer_stub_->Validate(&context, request, &response);
  }

  TestNamespace ns_;
  int analyzer_port_ = FreePort();
  std::unique_ptr<ChildProcess> analyzer_;
  std::unique_ptr<CanarydProcess> canaryd_;
  std::unique_ptr<PrometheusProcess> prometheus_;
  std::unique_ptr<v1::AnalysisService::Stub> analyzer_stub_;
};

TEST_F(HostileInputTest, NamesThatLeaveTheNamespaceAreRefusedEverywhere) {
  TestNamespace victim;
  victim.Apply(SubsetMeshYaml("b-vs"));
  const std::string vs_path =
      kube::kVirtualServices.Item(victim.name(), "b-vs");
  auto before = Kube().Get(vs_path);
  ASSERT_TRUE(before.ok()) << before.status();
  const std::string escape =
      absl::StrCat("../../", victim.name(), "/virtualservices/b-vs");
  const std::string yaml = absl::StrReplaceAll(
      RolloutYaml("evil", "none"),
      {{"virtualService: {name: evil}",
        absl::StrCat("virtualService: {name: \"", escape, "\"}")}});

  // Admission: the CRD schema's pattern, enforced by the real API server.
  const char* kubectl = std::getenv("KUBECTL");
  ASSERT_NE(kubectl, nullptr) << "KUBECTL is set by scripts/test.sh";
  const std::string file =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/evil-", ns_.name(), ".yaml");
  std::ofstream(file) << yaml;
  const CommandResult applied =
      RunShell(absl::StrCat(kubectl, " apply -n ", ns_.name(), " -f ", file));
  const std::string& output = applied.output;
  EXPECT_NE(applied.exit_code, 0) << output;
  EXPECT_NE(output.find("spec.trafficRouting.istio.virtualService.name"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("should match"), std::string::npos) << output;

  // The parser, on the same object, should the schema ever be bypassed.
  auto document = absl::StrReplaceAll(
      yaml, {{"metadata: {name: evil}", absl::StrCat("metadata: {name: evil, "
                                                     "namespace: ",
                                                     ns_.name(), "}")}});
  std::ofstream(file) << document;
  const CommandResult created = RunShell(
      absl::StrCat(kubectl, " create --dry-run=client -o json -f ", file));
  const std::string& as_json = created.output;
  ASSERT_EQ(created.exit_code, 0) << as_json;
  auto parsed = CanaryRolloutFromJson(json::parse(as_json));
  EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << parsed.status();
  EXPECT_NE(parsed.status().message().find(absl::StrCat(
                "spec.trafficRouting.istio.virtualService.name: \"", escape,
                "\" is not a valid name")),
            absl::string_view::npos)
      << parsed.status();

  // The RolloutService: a second door into the same spec.
  v1::StartRolloutRequest request;
  request.set_namespace_(ns_.name());
  request.set_name("evil");
  v1::RolloutSpec* spec = request.mutable_spec();
  spec->mutable_traffic_routing()->set_virtual_service(escape);
  spec->mutable_traffic_routing()->set_destination_rule("b-vs");
  spec->mutable_traffic_routing()->set_stable_subset("stable");
  spec->mutable_traffic_routing()->set_canary_subset("canary");
  (*spec->mutable_canary_labels())["version"] = "v2";
  *spec->add_steps() = SetWeightStep(50);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  v1::Rollout reply;
  const grpc::Status started =
      canaryd_->Stub()->StartRollout(&context, request, &reply);
  EXPECT_EQ(started.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << started.error_message();
  EXPECT_NE(started.error_message().find("virtualService.name"),
            std::string::npos)
      << started.error_message();

  // Nothing was stored, and namespace B's VirtualService never changed.
  EXPECT_TRUE(absl::IsNotFound(
      Kube().Get(kube::kCanaryRollouts.Item(ns_.name(), "evil")).status()));
  auto after = Kube().Get(vs_path);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ((*after)["metadata"]["resourceVersion"],
            (*before)["metadata"]["resourceVersion"]);
  EXPECT_EQ((*after)["spec"], (*before)["spec"]);
  ExpectBothUp();
}

TEST_F(HostileInputTest, HostileTemplatesFailTheirRolloutAndOthersProceed) {
  const std::string prometheus = prometheus_->url();
  ns_.Apply(TemplateYaml("ok", "result[0] >= 1", prometheus));
  ns_.Apply(TemplateYaml("unicode-minus",
                         absl::StrCat("result[0] >= ", kUnicodeMinus, "0.5"),
                         prometheus));
  // 2,000 levels: inside the schema's 4 KiB, far past the parser's 64.
  ns_.Apply(TemplateYaml("deep",
                         absl::StrCat(std::string(2000, '('), "result[0] >= 1",
                                      std::string(2000, ')')),
                         prometheus));
  ns_.Apply(absl::StrReplaceAll(R"(apiVersion: smartcanary.dev/v1alpha1
kind: CanaryAnalysisTemplate
metadata: {name: wrong-type}
spec:
  metrics:
  - name: errors
    interval: 5s
    provider:
      comparative:
        prometheus: {address: "PROMETHEUS"}
        istio:
          service: rpc-server
          canary: {destination_canonical_revision: v2}
          baseline: {destination_canonical_revision: v1}
        alpha: "0.01"
)",
                                {{"PROMETHEUS", prometheus}}));
  // 5,000 levels are refused at admission (the condition's maxLength).
  auto object = cli::YamlToJson(
      TemplateYaml("too-deep",
                   absl::StrCat(std::string(5000, '('), "result[0] >= 1",
                                std::string(5000, ')')),
                   prometheus));
  ASSERT_TRUE(object.ok()) << object.status();
  (*object)["metadata"]["namespace"] = ns_.name();
  auto refused =
      Kube().Post(kube::kAnalysisTemplates.Collection(ns_.name()), *object);
  EXPECT_TRUE(absl::IsInvalidArgument(refused.status())) << refused.status();
  EXPECT_NE(refused.status().message().find("successCondition"),
            absl::string_view::npos)
      << refused.status();

  const std::vector<std::pair<std::string, std::string>> hostile = {
      {"wrong-type",
       "spec.metrics[0] (errors).provider.comparative.alpha: must be a "
       "number, got string \"0.01\""},
      {"unicode-minus", absl::StrCat("successCondition: unexpected '",
                                     kUnicodeMinus, "' (U+2212")},
      {"deep", "successCondition: nested more than 64 levels deep"},
  };
  for (const auto& [name, unused] : hostile) {
    ns_.Apply(SubsetMeshYaml(name));
    ns_.Apply(RolloutYaml(name, name));
  }
  ns_.Apply(SubsetMeshYaml("good"));
  ns_.Apply(RolloutYaml("good", "ok"));

  for (const auto& [name, error] : hostile) {
    EXPECT_TRUE(WaitFor([&, name = name] {
      return Status(name).value("phase", "") == "Degraded";
    })) << name
        << ": " << Status(name).dump();
    const json status = Status(name);
    EXPECT_EQ(status.value("canaryWeight", -1), 0) << name;
    const std::string message = status.value("message", "");
    EXPECT_NE(message.find(error), std::string::npos)
        << name << ": " << message;
    EXPECT_NE(message.find(absl::StrCat("CanaryAnalysisTemplate ", ns_.name(),
                                        "/", name)),
              std::string::npos)
        << name << ": " << message;
  }
  EXPECT_TRUE(
      WaitFor([&] { return Status("good").value("phase", "") == "Healthy"; },
              absl::Seconds(120)))
      << Status("good").dump();
  ExpectBothUp();
}

TEST_F(HostileInputTest, TheAnalyzerRefusesHostileConditionsAndStaysUp) {
  for (const std::string& condition :
       {std::string(5000, '(') + "result[0] >= 1" + std::string(5000, ')'),
        std::string(20000, '!') + "true",
        std::string(60, '(') + std::string(2000, '!') + "true" +
            std::string(60, ')'),
        absl::StrCat("result[0] >= ", kUnicodeMinus, "0.5")}) {
    v1::AnalyzeRequest request;
    v1::Metric* metric = request.add_metrics();
    metric->set_name("hostile");
    metric->set_success_condition(condition);
    metric->mutable_prometheus()->set_address(prometheus_->url());
    metric->mutable_prometheus()->set_query("vector(1)");
    const grpc::Status status = Validate(request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    EXPECT_NE(status.error_message().find("successCondition"),
              std::string::npos)
        << status.error_message();
  }
  ExpectBothUp();
}

}  // namespace
}  // namespace smartcanary::testing
