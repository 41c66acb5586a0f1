// End to end on the real control plane with Debian's Prometheus: the mesh
// stand-in sends real gRPC traffic split by the VirtualService, canaryd
// judges it through canary-analyzer, and the Grafana contract server records
// the annotations.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "controller/kube/resources.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::testing {
namespace {

using nlohmann::json;

constexpr char kMesh[] = R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: rpc-server}
spec:
  hosts: [rpc-server]
  http:
  - name: primary
    route:
    - destination: {host: rpc-server, subset: stable}
      weight: 100
    - destination: {host: rpc-server, subset: canary}
      weight: 0
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: rpc-server}
spec:
  host: rpc-server
  subsets:
  - name: stable
    labels: {version: v1}
  - name: canary
    labels: {version: v1}
---
apiVersion: smartcanary.dev/v1alpha1
kind: CanaryAnalysisTemplate
metadata: {name: canary-success-rate}
spec:
  args:
  - name: prometheus
  - name: version
  metrics:
  - name: grpc-success-rate
    interval: 3s
    count: 2
    successCondition: result[0] >= 0.99
    inconclusiveLimit: 5
    consecutiveErrorLimit: 2
    provider:
      prometheus:
        address: "{{args.prometheus}}"
        query: >
          sum(rate(istio_requests_total{reporter="destination",destination_canonical_revision="{{args.version}}",grpc_response_status="0"}[10s]))
          / sum(rate(istio_requests_total{reporter="destination",destination_canonical_revision="{{args.version}}"}[10s]))
---
apiVersion: smartcanary.dev/v1alpha1
kind: CanaryAnalysisTemplate
metadata: {name: vs-baseline}
spec:
  args:
  - name: prometheus
  - name: version
  metrics:
  - name: grpc-errors
    interval: 5s
    initialDelay: 10s
    inconclusiveLimit: 6
    provider:
      comparative:
        prometheus: {address: "{{args.prometheus}}"}
        istio:
          service: rpc-server
          canary: {destination_canonical_revision: "{{args.version}}"}
          baseline: {destination_canonical_revision: v1}
)";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// rpc-server v1 (stable), v2 (good), v3 (10% UNAVAILABLE) for the suite.
struct Backends {
  int v1 = FreePort(), v2 = FreePort(), v3 = FreePort();
  ChildProcess p1{"rpc-v1",
                  {RunfilePath("examples/rpc-server/rpc-server"),
                   absl::StrCat("--listen=127.0.0.1:", v1), "--version=v1"}};
  ChildProcess p2{"rpc-v2",
                  {RunfilePath("examples/rpc-server/rpc-server"),
                   absl::StrCat("--listen=127.0.0.1:", v2), "--version=v2"}};
  ChildProcess p3{"rpc-v3",
                  {RunfilePath("examples/rpc-server/rpc-server"),
                   absl::StrCat("--listen=127.0.0.1:", v3), "--version=v3",
                   "--error-fraction=0.1"}};
  std::string Flag() const {
    return absl::StrCat("--backends=v1=127.0.0.1:", v1, ",v2=127.0.0.1:", v2,
                        ",v3=127.0.0.1:", v3);
  }
};

class CanaryE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { backends_ = new Backends(); }
  static void TearDownTestSuite() { delete backends_; }

  CanaryE2ETest() {
    ns_.Apply(kMesh);
    mesh_ = std::make_unique<ChildProcess>(
        "mesh-" + ns_.name(),
        std::vector<std::string>{
            RunfilePath("tests/fixtures/mesh_standin/mesh-standin"),
            absl::StrCat("--kubeconfig=", std::getenv("KUBECONFIG")),
            "--namespace=" + ns_.name(), backends_->Flag(), "--rps=50",
            absl::StrCat("--listen=127.0.0.1:", mesh_port_)});
    prometheus_ = std::make_unique<PrometheusProcess>(
        std::vector<std::string>{absl::StrCat("127.0.0.1:", mesh_port_)});
    // Two scrapes at least, so rate() and irate() have something to say.
    EXPECT_TRUE(
        prometheus_->WaitForData("sum(irate(istio_requests_total[1m]))"));
    grafana_ = std::make_unique<ChildProcess>(
        "grafana-" + ns_.name(),
        std::vector<std::string>{
            RunfilePath("tests/fixtures/grafana_contract/grafana-contract"),
            absl::StrCat("--listen=127.0.0.1:", grafana_port_), "--token=t0ken",
            "--fail-first=1"});
    const std::string token_file =
        absl::StrCat(std::getenv("TEST_TMPDIR"), "/token-", ns_.name());
    std::ofstream(token_file) << "t0ken\n";
    analyzer_ = std::make_unique<ChildProcess>(
        "analyzer-" + ns_.name(), LocalAnalyzerArgv(analyzer_port_));
    canaryd_ = std::make_unique<CanarydProcess>(
        ns_.name(),
        std::vector<std::string>{
            absl::StrCat("--analyzer=127.0.0.1:", analyzer_port_),
            absl::StrCat("--grafana-url=http://127.0.0.1:", grafana_port_),
            "--grafana-token-file=" + token_file});
    stub_ = canaryd_->Stub();
  }

  v1::StartRolloutRequest Request(const std::string& version,
                                  std::vector<v1::Step> steps,
                                  bool background = true) {
    v1::StartRolloutRequest request;
    request.set_namespace_(ns_.name());
    request.set_name("rpc-server");
    v1::RolloutSpec* spec = request.mutable_spec();
    spec->mutable_traffic_routing()->set_virtual_service("rpc-server");
    spec->mutable_traffic_routing()->set_destination_rule("rpc-server");
    spec->mutable_traffic_routing()->set_stable_subset("stable");
    spec->mutable_traffic_routing()->set_canary_subset("canary");
    (*spec->mutable_canary_labels())["version"] = version;
    for (const v1::Step& step : steps) *spec->add_steps() = step;
    if (background) {
      *spec->mutable_analysis()->mutable_analysis() = Analysis(version);
      spec->mutable_analysis()->set_starting_step(1);
    }
    return request;
  }

  v1::AnalysisStep Analysis(const std::string& version) {
    v1::AnalysisStep analysis;
    analysis.add_templates()->set_template_name("canary-success-rate");
    for (auto [name, value] :
         {std::pair<std::string, std::string>{"prometheus", prometheus_->url()},
          {"version", version}}) {
      v1::Arg* arg = analysis.add_args();
      arg->set_name(name);
      arg->set_value(value);
    }
    return analysis;
  }

  static v1::Step SetWeight(int weight) {
    v1::Step step;
    step.set_set_weight(weight);
    return step;
  }
  v1::Step AnalysisStep(const std::string& version) {
    v1::Step step;
    *step.mutable_analysis() = Analysis(version);
    return step;
  }

  v1::Rollout Start(const v1::StartRolloutRequest& request) {
    grpc::ClientContext context;
    v1::Rollout rollout;
    grpc::Status status = stub_->StartRollout(&context, request, &rollout);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return rollout;
  }

  v1::Rollout Get() {
    grpc::ClientContext context;
    v1::RolloutRef ref;
    ref.set_namespace_(ns_.name());
    ref.set_name("rpc-server");
    v1::Rollout rollout;
    stub_->GetRollout(&context, ref, &rollout);
    return rollout;
  }

  v1::Phase WaitForEnd(absl::Duration timeout = absl::Seconds(150)) {
    WaitFor(
        [&] {
          return Get().phase() == v1::HEALTHY || Get().phase() == v1::DEGRADED;
        },
        timeout);
    return Get().phase();
  }

  std::pair<int, int> Weights() {
    json route = (*Kube().Get(kube::kVirtualServices.Item(
        ns_.name(), "rpc-server")))["spec"]["http"][0]["route"];
    return {route[0].value("weight", -1), route[1].value("weight", -1)};
  }

  json Annotations() {
    json all =
        json::parse(HttpGet(absl::StrCat("http://127.0.0.1:", grafana_port_,
                                         "/api/annotations"),
                            {"Authorization: Bearer t0ken"}),
                    nullptr, false);
    return all.is_array() ? all : json::array();
  }

  static Backends* backends_;
  TestNamespace ns_;
  int mesh_port_ = FreePort(), grafana_port_ = FreePort(),
      analyzer_port_ = FreePort();
  std::unique_ptr<ChildProcess> mesh_, grafana_, analyzer_;
  std::unique_ptr<PrometheusProcess> prometheus_;
  std::unique_ptr<CanarydProcess> canaryd_;
  std::unique_ptr<v1::RolloutService::Stub> stub_;
};

Backends* CanaryE2ETest::backends_ = nullptr;

TEST_F(CanaryE2ETest, GoodCanaryReachesHealthyAndGrafanaGetsTheStoryInOrder) {
  Start(Request("v2", {SetWeight(20), AnalysisStep("v2"), SetWeight(50),
                       AnalysisStep("v2"), SetWeight(100)}));
  ASSERT_EQ(WaitForEnd(), v1::HEALTHY) << Get().message();
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
  v1::Rollout done = Get();
  ASSERT_EQ(done.analysis_runs_size(), 2);
  for (const auto& run : done.analysis_runs()) {
    EXPECT_EQ(run.phase(), "Successful") << run.name() << ": " << run.message();
    EXPECT_GE(run.metrics(0).successful(), 1);
    EXPECT_EQ(run.metrics(0).failed(), 0);
  }
  // Annotations arrive asynchronously; the first post was refused (retried).
  ASSERT_TRUE(WaitFor(
      [&] {
        json all = Annotations();
        return !all.empty() && all.back()["tags"].back() == "completed";
      },
      absl::Seconds(20)))
      << Annotations().dump(1);
  std::vector<std::string> kinds;
  for (const json& a : Annotations()) {
    EXPECT_EQ(a["tags"][0], "smartcanary");
    EXPECT_EQ(a["tags"][1], "rpc-server");
    EXPECT_EQ(a["tags"][2], ns_.name());
    if (kinds.empty() || kinds.back() != a["tags"][3])
      kinds.push_back(a["tags"][3]);
  }
  const std::vector<std::string> story = {"started",  "weight",   "analysis",
                                          "weight",   "analysis", "weight",
                                          "completed"};
  size_t next = 0;
  for (const std::string& kind : kinds) {
    if (next < story.size() && kind == story[next]) ++next;
  }
  EXPECT_EQ(next, story.size())
      << "annotation kinds in order: " << absl::StrJoin(kinds, ",");
  EXPECT_NE(HttpGet(canaryd_->metrics_url())
                .find("canaryd_annotation_failures_total 0"),
            std::string::npos)
      << "one refused post was retried, not dropped";
}

TEST_F(CanaryE2ETest, BadCanaryIsRolledBackAutomatically) {
  Start(Request("v3", {SetWeight(20), AnalysisStep("v3"), SetWeight(50),
                       AnalysisStep("v3"), SetWeight(100)}));
  ASSERT_EQ(WaitForEnd(), v1::DEGRADED);
  const v1::Rollout rolled_back = Get();
  EXPECT_NE(rolled_back.message().find("rolled back"), std::string::npos)
      << rolled_back.message();
  EXPECT_NE(rolled_back.message().find("grpc-success-rate"), std::string::npos)
      << rolled_back.message();
  EXPECT_NE(rolled_back.message().find("is false for result=[0."),
            std::string::npos)
      << rolled_back.message();
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
  EXPECT_NE(HttpGet(canaryd_->metrics_url())
                .find("canaryd_measurements_total{phase=\"Failed\"}"),
            std::string::npos);
}

TEST_F(CanaryE2ETest, AStoppedAnalyzerNeverLetsTheRolloutAdvance) {
  analyzer_->Kill9();
  Start(Request("v2", {SetWeight(20), AnalysisStep("v2"), SetWeight(50)},
                /*background=*/false));
  ASSERT_EQ(WaitForEnd(), v1::DEGRADED);
  const v1::Rollout rollout = Get();
  EXPECT_EQ(rollout.current_step_index(), 1) << "stopped at the analysis step";
  EXPECT_NE(rollout.message().find("consecutive errors"), std::string::npos)
      << rollout.message();
  EXPECT_NE(rollout.message().find("unavailable"), std::string::npos)
      << rollout.message();
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
}

TEST_F(CanaryE2ETest, TheArticleTemplateWorksWithOnlyApiVersionAndKindChanged) {
  std::string text = ReadFile(
      RunfilePath("manifests/examples/rpc-server/article-success-rate.yaml"));
  // The address is where this environment's Prometheus is; the template is
  // otherwise verbatim.
  text = absl::StrReplaceAll(
      text, {{"http://prometheus.istio-system:9090", prometheus_->url()},
             {"name: success-rate\nspec",
              absl::StrCat("name: article-", ns_.name(), "\nspec")}});
  ns_.Apply(text);
  v1::StartRolloutRequest request =
      Request("v2", {SetWeight(20), SetWeight(60)}, false);
  v1::Step pause;
  pause.mutable_pause()->set_duration_seconds(8);
  *request.mutable_spec()->mutable_steps()->Add() = pause;
  v1::AnalysisStep* article =
      request.mutable_spec()->mutable_analysis()->mutable_analysis();
  v1::TemplateRef* ref = article->add_templates();
  ref->set_template_name(absl::StrCat("article-", ns_.name()));
  ref->set_cluster_scope(true);
  v1::Arg* arg = article->add_args();
  arg->set_name("service-name");
  arg->set_value("rpc-server.*");
  Start(request);
  // The template measures every 5 minutes: an Error measurement (a slow
  // answer on a loaded machine) is retried only 5 minutes later, as Argo
  // would, so the guard covers a second measurement.
  const auto phase = WaitForEnd(absl::Seconds(420));
  const v1::Rollout done = Get();
  ASSERT_EQ(phase, v1::HEALTHY) << done.message() << "\n" << done.DebugString();
  ASSERT_EQ(done.analysis_runs_size(), 1);
  EXPECT_EQ(done.analysis_runs(0).phase(), "Successful");
  EXPECT_EQ(done.analysis_runs(0).metrics(0).successful(), 1)
      << done.analysis_runs(0).metrics(0).last_message();
}

v1::StartRolloutRequest SmartRequest(CanaryE2ETest* test,
                                     const v1::StartRolloutRequest& base,
                                     const std::string& prometheus,
                                     const std::string& version) {
  (void)test;
  v1::StartRolloutRequest request = base;
  v1::AnalysisStep* analysis =
      request.mutable_spec()->mutable_analysis()->mutable_analysis();
  analysis->Clear();
  analysis->add_templates()->set_template_name("vs-baseline");
  for (auto [name, value] :
       {std::pair<std::string, std::string>{"prometheus", prometheus},
        {"version", version}}) {
    v1::Arg* arg = analysis->add_args();
    arg->set_name(name);
    arg->set_value(value);
  }
  request.mutable_spec()->mutable_analysis()->set_starting_step(1);
  return request;
}

TEST_F(CanaryE2ETest, TheSmartJudgeRollsBackABadCanaryWithItsEvidence) {
  v1::Step pause;
  pause.mutable_pause()->set_duration_seconds(120);
  Start(SmartRequest(
      this, Request("v3", {SetWeight(20), pause, SetWeight(50)}, false),
      prometheus_->url(), "v3"));
  ASSERT_EQ(WaitForEnd(), v1::DEGRADED) << Get().message();
  const std::string message = Get().message();
  for (const char* part :
       {"rolled back: background analysis", "canary worse than 1.25x baseline",
        "rate ratio", "interval [", "e-value"}) {
    EXPECT_NE(message.find(part), std::string::npos)
        << part << " in " << message;
  }
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
}

TEST_F(CanaryE2ETest, TheSmartJudgeLetsAGoodCanaryThrough) {
  v1::Step pause;
  pause.mutable_pause()->set_duration_seconds(25);
  Start(SmartRequest(
      this, Request("v2", {SetWeight(20), pause, SetWeight(100)}, false),
      prometheus_->url(), "v2"));
  ASSERT_EQ(WaitForEnd(), v1::HEALTHY) << Get().message();
  const v1::Rollout done = Get();
  ASSERT_EQ(done.analysis_runs_size(), 1);
  EXPECT_EQ(done.analysis_runs(0).phase(), "Successful")
      << done.analysis_runs(0).message();
  EXPECT_GE(done.analysis_runs(0).metrics(0).successful(), 1);
  EXPECT_EQ(done.analysis_runs(0).metrics(0).failed(), 0);
}

}  // namespace
}  // namespace smartcanary::testing
