// Routing on the real kube-apiserver: a rollout over a gateway and a mesh
// VirtualService (Argo's virtualServices), host-level completion through
// the stable Service's selector, dry-run metrics judged by the real
// canary-analyzer and Debian's Prometheus, and unknown fields refused.
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "controller/kube/resources.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::testing {
namespace {

using nlohmann::json;

// The usual Istio layout: a VirtualService bound to the ingress gateway
// (external traffic, a route of its own among others) beside the mesh's
// (SubsetMeshYaml's rpc-server), both splitting between the same subsets.
constexpr char kGateway[] = R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: rpc-gateway}
spec:
  hosts: [rpc.example.com]
  gateways: [istio-system/ingress]
  http:
  - name: docs
    match: [{uri: {prefix: /docs}}]
    route:
    - destination: {host: docs}
  - name: primary
    route:
    - destination: {host: rpc-server, subset: stable}
      weight: 100
    - destination: {host: rpc-server, subset: canary}
      weight: 0
)";

// STEPS is replaced by the plan.
constexpr char kTwoVirtualServicesRollout[] =
    R"(apiVersion: smartcanary.dev/v1alpha1
kind: CanaryRollout
metadata: {name: rpc-server}
spec:
  canaryLabels: {version: v2}
  trafficRouting:
    istio:
      virtualServices:
      - {name: rpc-gateway, routes: [primary]}
      - {name: rpc-server}
      destinationRule: {name: rpc-server, stableSubsetName: stable, canarySubsetName: canary}
  steps: STEPS
)";

// Host-level: two Services, one VirtualService splitting between hosts.
constexpr char kHostLevel[] = R"(apiVersion: v1
kind: Service
metadata: {name: rpc-server}
spec:
  selector: {app: rpc-server, version: v1}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: rpc-server-canary}
spec:
  selector: {app: rpc-server, version: v1}
  ports: [{port: 80}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: rpc-server}
spec:
  hosts: [rpc-server]
  http:
  - route:
    - destination: {host: rpc-server}
      weight: 100
    - destination: {host: rpc-server-canary}
      weight: 0
)";

constexpr char kHostLevelRollout[] = R"(apiVersion: smartcanary.dev/v1alpha1
kind: CanaryRollout
metadata: {name: rpc-server}
spec:
  canaryLabels: {version: v2}
  stableService: rpc-server
  canaryService: rpc-server-canary
  trafficRouting:
    istio:
      virtualService: {name: rpc-server}
  steps: [{setWeight: 30}, {pause: {}}, {setWeight: 100}]
)";

// Applies YAML with the real kubectl: its default server-side strict field
// validation is part of what is tested.
CommandResult Kubectl(const std::string& ns, const std::string& verb,
                      const std::string& yaml) {
  const char* kubectl = std::getenv("KUBECTL");
  EXPECT_NE(kubectl, nullptr) << "KUBECTL is set by scripts/test.sh";
  const std::string file =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/", ns, "-", rand(), ".yaml");
  FILE* f = fopen(file.c_str(), "w");
  fputs(yaml.c_str(), f);
  fclose(f);
  return RunShell(absl::StrCat(kubectl ? kubectl : "kubectl", " ", verb, " -n ",
                               ns, " -f ", file));
}

class RoutingTest : public ::testing::Test {
 protected:
  v1::Rollout Get() {
    grpc::ClientContext context;
    v1::RolloutRef ref;
    ref.set_namespace_(ns_.name());
    ref.set_name("rpc-server");
    v1::Rollout rollout;
    grpc::Status status = stub_->GetRollout(&context, ref, &rollout);
    return status.ok() ? rollout : v1::Rollout();
  }

  bool WaitForPhase(v1::Phase phase, int step,
                    absl::Duration timeout = absl::Seconds(90)) {
    const bool reached = WaitFor(
        [&] {
          v1::Rollout r = Get();
          return r.phase() == phase && r.current_step_index() == step &&
                 r.generation() > 0 &&
                 r.observed_generation() == r.generation();
        },
        timeout);
    if (!reached)
      ADD_FAILURE() << "rollout never reached phase " << phase << " step "
                    << step << "; it is at " << Get().DebugString();
    return reached;
  }

  grpc::Status Command(const std::string& verb) {
    grpc::ClientContext context;
    v1::RolloutRef ref;
    ref.set_namespace_(ns_.name());
    ref.set_name("rpc-server");
    v1::Rollout out;
    if (verb == "abort") return stub_->Abort(&context, ref, &out);
    v1::PromoteRequest request;
    *request.mutable_rollout() = ref;
    return stub_->Promote(&context, request, &out);
  }

  // {stable, canary} weights of route `route` of VirtualService `name`.
  std::pair<int, int> Weights(const std::string& name, int route) {
    json vs = *Kube().Get(kube::kVirtualServices.Item(ns_.name(), name));
    json destinations = vs["spec"]["http"][route]["route"];
    return {destinations[0].value("weight", -1),
            destinations[1].value("weight", -1)};
  }

  void ApplyRollout(const std::string& yaml) {
    CommandResult applied = Kubectl(ns_.name(), "apply", yaml);
    ASSERT_EQ(applied.exit_code, 0) << applied.output;
  }

  TestNamespace ns_;
  std::unique_ptr<CanarydProcess> canaryd_;
  std::unique_ptr<v1::RolloutService::Stub> stub_;
};

class TwoVirtualServicesTest : public RoutingTest {
 protected:
  TwoVirtualServicesTest() {
    ns_.Apply(kGateway);
    ns_.Apply(SubsetMeshYaml("rpc-server"));
    canaryd_ = std::make_unique<CanarydProcess>(ns_.name());
    stub_ = canaryd_->Stub();
  }
  std::string Rollout(const std::string& steps) {
    return absl::StrReplaceAll(kTwoVirtualServicesRollout, {{"STEPS", steps}});
  }
};

TEST_F(TwoVirtualServicesTest, BothMoveAtEveryStepAndReturnToStableOnAbort) {
  WeightRecorder gateway(ns_.name(), "rpc-gateway", 1);
  WeightRecorder mesh(ns_.name(), "rpc-server", 0);
  ApplyRollout(
      Rollout("[{setWeight: 20}, {pause: {}}, {setWeight: 50}, {pause: {}}]"));
  // The CRD kept the list (not pruned): canaryd parsed it as written.
  json stored = *Kube().Get(absl::StrCat(
      kube::kCanaryRollouts.Collection(ns_.name()), "/rpc-server"));
  EXPECT_EQ(stored["spec"]["trafficRouting"]["istio"]["virtualServices"].size(),
            2u);

  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 1));
  EXPECT_EQ(Weights("rpc-gateway", 1), std::make_pair(80, 20));
  EXPECT_EQ(Weights("rpc-server", 0), std::make_pair(80, 20));
  ASSERT_TRUE(Command("promote").ok());
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 3));
  EXPECT_EQ(Weights("rpc-gateway", 1), std::make_pair(50, 50));
  EXPECT_EQ(Weights("rpc-server", 0), std::make_pair(50, 50));

  grpc::Status aborted = Command("abort");
  ASSERT_TRUE(aborted.ok()) << aborted.error_message();
  // The abort's reply comes once every VirtualService shows stable 100.
  EXPECT_EQ(Weights("rpc-gateway", 1), std::make_pair(100, 0));
  EXPECT_EQ(Weights("rpc-server", 0), std::make_pair(100, 0));
  EXPECT_EQ(Get().phase(), v1::DEGRADED);
  // The gateway's other route is untouched.
  json vs = *Kube().Get(kube::kVirtualServices.Item(ns_.name(), "rpc-gateway"));
  EXPECT_FALSE(vs["spec"]["http"][0]["route"][0].contains("weight"));
  EXPECT_TRUE(WaitFor([&] { return mesh.weights().size() >= 4; }));
  EXPECT_EQ(gateway.weights(), (std::vector<int>{0, 20, 50, 0}));
  EXPECT_EQ(mesh.weights(), (std::vector<int>{0, 20, 50, 0}));
}

TEST_F(TwoVirtualServicesTest, APromotedRolloutEndsWithBothOnTheNewVersion) {
  WeightRecorder gateway(ns_.name(), "rpc-gateway", 1);
  WeightRecorder mesh(ns_.name(), "rpc-server", 0);
  ApplyRollout(Rollout("[{setWeight: 30}, {setWeight: 100}]"));
  ASSERT_TRUE(WaitForPhase(v1::HEALTHY, 2));
  EXPECT_EQ(Weights("rpc-gateway", 1), std::make_pair(100, 0));
  EXPECT_EQ(Weights("rpc-server", 0), std::make_pair(100, 0));
  json dr = *Kube().Get(kube::kDestinationRules.Item(ns_.name(), "rpc-server"));
  EXPECT_EQ(dr["spec"]["subsets"][0]["labels"]["version"], "v2")
      << "stable (what both VirtualServices send 100% to) is the new version";
  EXPECT_TRUE(WaitFor([&] { return mesh.weights().size() >= 4; }));
  EXPECT_EQ(gateway.weights(), (std::vector<int>{0, 30, 100, 0}));
  EXPECT_EQ(mesh.weights(), (std::vector<int>{0, 30, 100, 0}));
}

// An admission policy on the real API server refuses any canary weight on
// the mesh VirtualService: the gateway's, written first, must go back to
// stable every time, so traffic is never left half-moved; once the policy
// is gone both move.
TEST_F(TwoVirtualServicesTest, AFailedSecondWritePutsTheFirstBackOnStable) {
  const std::string policy = "freeze-mesh-" + ns_.name();
  const std::string policies =
      "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies";
  const std::string bindings =
      "/apis/admissionregistration.k8s.io/v1/"
      "validatingadmissionpolicybindings";
  ASSERT_TRUE(
      Kube()
          .Post(policies, {{"apiVersion", "admissionregistration.k8s.io/v1"},
                           {"kind", "ValidatingAdmissionPolicy"},
                           {"metadata", {{"name", policy}}},
                           {"spec",
                            {{"failurePolicy", "Fail"},
                             {"matchConstraints",
                              {{"resourceRules",
                                {{{"apiGroups", {"networking.istio.io"}},
                                  {"apiVersions", {"*"}},
                                  {"operations", {"UPDATE"}},
                                  {"resources", {"virtualservices"}}}}}}},
                             {"validations",
                              {{{"expression",
                                 "object.metadata.name != 'rpc-server' || "
                                 "!has(object.spec.http[0].route[1].weight) || "
                                 "object.spec.http[0].route[1].weight == 0"},
                                {"message", "rpc-server is frozen"}}}}}}})
          .ok());
  ASSERT_TRUE(
      Kube()
          .Post(bindings,
                {{"apiVersion", "admissionregistration.k8s.io/v1"},
                 {"kind", "ValidatingAdmissionPolicyBinding"},
                 {"metadata", {{"name", policy}}},
                 {"spec",
                  {{"policyName", policy},
                   {"validationActions", {"Deny"}},
                   {"matchResources",
                    {{"namespaceSelector",
                      {{"matchLabels",
                        {{"kubernetes.io/metadata.name", ns_.name()}}}}}}}}}})
          .ok());
  auto remove_policy = [&] {
    (void)Kube().Delete(bindings + "/" + policy);
    (void)Kube().Delete(policies + "/" + policy);
  };
  // Cluster-scoped: removed whatever the test's outcome.
  struct AtExit {
    std::function<void()> run;
    ~AtExit() { run(); }
  } at_exit{remove_policy};
  // Policies take effect asynchronously: wait until a write is refused.
  const std::string mesh_path =
      kube::kVirtualServices.Item(ns_.name(), "rpc-server");
  const json probe = json::array({{{"op", "replace"},
                                   {"path", "/spec/http/0/route/1/weight"},
                                   {"value", 1}},
                                  {{"op", "replace"},
                                   {"path", "/spec/http/0/route/0/weight"},
                                   {"value", 99}}});
  const json unprobe = json::array({{{"op", "replace"},
                                     {"path", "/spec/http/0/route/1/weight"},
                                     {"value", 0}},
                                    {{"op", "replace"},
                                     {"path", "/spec/http/0/route/0/weight"},
                                     {"value", 100}}});
  ASSERT_TRUE(WaitFor([&] {
    if (Kube().JsonPatch(mesh_path, probe).ok()) {
      EXPECT_TRUE(Kube().JsonPatch(mesh_path, unprobe).ok());
      return false;
    }
    return true;
  }));
  ASSERT_EQ(Weights("rpc-server", 0), std::make_pair(100, 0));

  WeightRecorder gateway(ns_.name(), "rpc-gateway", 1);
  WeightRecorder mesh(ns_.name(), "rpc-server", 0);
  ApplyRollout(Rollout("[{setWeight: 20}, {pause: {}}]"));
  // The first attempt: gateway moved, mesh refused, gateway back on stable.
  ASSERT_TRUE(WaitFor([&] { return gateway.weights().size() >= 3; }))
      << ::testing::PrintToString(gateway.weights());
  const std::vector<int> attempts = gateway.weights();
  EXPECT_EQ(std::vector<int>(attempts.begin(), attempts.begin() + 3),
            (std::vector<int>{0, 20, 0}));
  EXPECT_EQ(mesh.weights(), (std::vector<int>{0}));
  EXPECT_NE(Get().phase(), v1::PAUSED);

  remove_policy();
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 1, absl::Seconds(180)));
  EXPECT_EQ(Weights("rpc-gateway", 1), std::make_pair(80, 20));
  EXPECT_EQ(Weights("rpc-server", 0), std::make_pair(80, 20));
}

TEST_F(TwoVirtualServicesTest, KubectlRefusesAMisspelledFieldNamingIt) {
  CommandResult applied =
      Kubectl(ns_.name(), "apply",
              absl::StrReplaceAll(Rollout("[{setWeight: 20}]"),
                                  {{"virtualServices:", "virtualServces:"}}));
  EXPECT_NE(applied.exit_code, 0);
  EXPECT_NE(applied.output.find("unknown field"), std::string::npos)
      << applied.output;
  EXPECT_NE(applied.output.find("virtualServces"), std::string::npos)
      << applied.output;
}

class HostLevelTest : public RoutingTest {
 protected:
  HostLevelTest() {
    canaryd_ = std::make_unique<CanarydProcess>(ns_.name());
    stub_ = canaryd_->Stub();
  }
  json Service(const std::string& name) {
    return *Kube().Get(kube::kServices.Item(ns_.name(), name));
  }
};

int64_t ResourceVersion(const json& object) {
  int64_t version = -1;
  EXPECT_TRUE(absl::SimpleAtoi(object["metadata"].value("resourceVersion", ""),
                               &version));
  return version;
}

TEST_F(HostLevelTest, CompletionEndsWithTheStableServiceOnTheNewVersion) {
  CommandResult applied = Kubectl(ns_.name(), "apply", kHostLevel);
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  WeightRecorder recorder(ns_.name(), "rpc-server", 0);
  ApplyRollout(kHostLevelRollout);
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 1));
  EXPECT_EQ(Weights("rpc-server", 0), std::make_pair(70, 30));
  EXPECT_EQ(Service("rpc-server-canary")["spec"]["selector"]["version"], "v2");
  EXPECT_EQ(Service("rpc-server")["spec"]["selector"]["version"], "v1");

  ASSERT_TRUE(Command("promote").ok());
  ASSERT_TRUE(WaitForPhase(v1::HEALTHY, 3));
  EXPECT_EQ(Weights("rpc-server", 0), std::make_pair(100, 0));
  const json stable = Service("rpc-server");
  EXPECT_EQ(stable["spec"]["selector"],
            (json{{"app", "rpc-server"}, {"version", "v2"}}))
      << "100% ends on the new version";
  // The selector changed before the weights went back to stable: the
  // VirtualService's last write is the newer one (etcd revisions order
  // writes across objects).
  const json vs =
      *Kube().Get(kube::kVirtualServices.Item(ns_.name(), "rpc-server"));
  EXPECT_LT(ResourceVersion(stable), ResourceVersion(vs));
  EXPECT_TRUE(WaitFor([&] { return recorder.weights().size() >= 4; }));
  EXPECT_EQ(recorder.weights(), (std::vector<int>{0, 30, 100, 0}));
}

// Debian's Prometheus answers vector(1); the dry-run metric's condition
// fails on it, the live one's passes.
std::string DryRunTemplate(const std::string& prometheus) {
  return absl::StrReplaceAll(R"(apiVersion: smartcanary.dev/v1alpha1
kind: CanaryAnalysisTemplate
metadata: {name: shadow}
spec:
  dryRun:
  - metricName: new-.*
  metrics:
  - name: success-rate
    successCondition: result[0] == 1
    provider:
      prometheus: {address: "PROM", query: vector(1)}
  - name: new-latency
    successCondition: result[0] == 0
    provider:
      prometheus: {address: "PROM", query: vector(1)}
)",
                             {{"PROM", prometheus}});
}

class DryRunTest : public RoutingTest {
 protected:
  DryRunTest() {
    EXPECT_TRUE(prometheus_.WaitForData("vector(1)"));
    ns_.Apply(SubsetMeshYaml("rpc-server"));
    analyzer_ = std::make_unique<ChildProcess>(
        "analyzer-" + ns_.name(), LocalAnalyzerArgv(analyzer_port_));
    canaryd_ = std::make_unique<CanarydProcess>(
        ns_.name(), std::vector<std::string>{
                        absl::StrCat("--analyzer=127.0.0.1:", analyzer_port_)});
    stub_ = canaryd_->Stub();
  }
  ~DryRunTest() override {
    canaryd_.reset();
    analyzer_.reset();
  }

  PrometheusProcess prometheus_{std::vector<std::string>{}};
  int analyzer_port_ = FreePort();
  std::unique_ptr<ChildProcess> analyzer_;
};

TEST_F(DryRunTest, AFailingDryRunMetricLeavesTheRolloutPromoted) {
  CommandResult applied =
      Kubectl(ns_.name(), "apply", DryRunTemplate(prometheus_.url()));
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  // Not pruned by the schema: the template still says dryRun.
  json stored =
      *Kube().Get(kube::kAnalysisTemplates.Item(ns_.name(), "shadow"));
  ASSERT_TRUE(stored["spec"].contains("dryRun")) << stored.dump();

  CommandResult rollout =
      Kubectl(ns_.name(), "apply", R"(apiVersion: smartcanary.dev/v1alpha1
kind: CanaryRollout
metadata: {name: rpc-server}
spec:
  canaryLabels: {version: v2}
  trafficRouting:
    istio:
      virtualService: {name: rpc-server}
      destinationRule: {name: rpc-server, stableSubsetName: stable, canarySubsetName: canary}
  steps:
  - setWeight: 20
  - analysis: {templates: [{templateName: shadow}]}
  - setWeight: 100
)");
  ASSERT_EQ(rollout.exit_code, 0) << rollout.output;
  ASSERT_TRUE(WaitForPhase(v1::HEALTHY, 3));

  const v1::Rollout done = Get();
  const v1::MetricStatus* shadow = nullptr;
  const v1::AnalysisRunStatus* step_run = nullptr;
  for (const v1::AnalysisRunStatus& run : done.analysis_runs()) {
    for (const v1::MetricStatus& metric : run.metrics()) {
      if (metric.name() == "new-latency") {
        shadow = &metric;
        step_run = &run;
      }
    }
  }
  ASSERT_NE(shadow, nullptr) << done.DebugString();
  EXPECT_TRUE(shadow->dry_run());
  EXPECT_EQ(shadow->phase(), "Failed");
  EXPECT_GE(shadow->failed(), 1);
  EXPECT_EQ(step_run->phase(), "Successful");
  EXPECT_NE(step_run->message().find("new-latency (dry-run) Failed"),
            std::string::npos)
      << step_run->message();
  // The status object on the API server says so too.
  json status = (*Kube().Get(absl::StrCat(
      kube::kCanaryRollouts.Collection(ns_.name()), "/rpc-server")))["status"];
  EXPECT_NE(status.dump().find("\"dryRun\":true"), std::string::npos)
      << status.dump();
}

}  // namespace
}  // namespace smartcanary::testing
