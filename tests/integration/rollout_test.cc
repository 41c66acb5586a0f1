// canaryd and canaryctl against a real kube-apiserver + etcd with Istio's
// CRDs: every weight is checked by reading the VirtualService back.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
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
  - name: admin
    match: [{uri: {prefix: /admin}}]
    route:
    - destination: {host: rpc-admin}
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
    labels: {app: rpc-server, version: v1}
  - name: canary
    labels: {app: rpc-server, version: v1}
)";

v1::StartRolloutRequest Request(const std::string& ns,
                                std::vector<v1::Step> steps,
                                const std::string& version = "v2") {
  v1::StartRolloutRequest request;
  request.set_namespace_(ns);
  request.set_name("rpc-server");
  v1::RolloutSpec* spec = request.mutable_spec();
  spec->mutable_traffic_routing()->set_virtual_service("rpc-server");
  spec->mutable_traffic_routing()->add_routes("primary");
  spec->mutable_traffic_routing()->set_destination_rule("rpc-server");
  spec->mutable_traffic_routing()->set_stable_subset("stable");
  spec->mutable_traffic_routing()->set_canary_subset("canary");
  (*spec->mutable_canary_labels())["version"] = version;
  for (const v1::Step& step : steps) *spec->add_steps() = step;
  return request;
}

v1::Step SetWeight(int weight) {
  v1::Step step;
  step.set_set_weight(weight);
  return step;
}

v1::Step Pause(int seconds = 0) {
  v1::Step step;
  step.mutable_pause()->set_duration_seconds(seconds);
  return step;
}

// The article's plan: 20, pause until promoted, 50, pause 30s, 100.
std::vector<v1::Step> ArticlePlan() {
  return {SetWeight(20), Pause(), SetWeight(50), Pause(30), SetWeight(100)};
}

class RolloutTest : public ::testing::Test {
 protected:
  RolloutTest() { ns_.Apply(kMesh); }

  v1::Rollout Get() {
    grpc::ClientContext context;
    v1::RolloutRef ref;
    ref.set_namespace_(ns_.name());
    ref.set_name("rpc-server");
    v1::Rollout rollout;
    grpc::Status status = stub_->GetRollout(&context, ref, &rollout);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return rollout;
  }

  v1::Rollout Start(const v1::StartRolloutRequest& request) {
    grpc::ClientContext context;
    v1::Rollout rollout;
    grpc::Status status = stub_->StartRollout(&context, request, &rollout);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return rollout;
  }

  bool WaitForPhase(v1::Phase phase, int step,
                    absl::Duration timeout = absl::Seconds(60)) {
    const bool reached = WaitFor(
        [&] {
          v1::Rollout r = Get();
          return r.phase() == phase && r.current_step_index() == step &&
                 r.observed_generation() == r.generation();
        },
        timeout);
    if (!reached)
      ADD_FAILURE() << "rollout never reached phase " << phase << " step "
                    << step << "; it is at " << Get().DebugString();
    return reached;
  }

  json VirtualService() {
    return *Kube().Get(kube::kVirtualServices.Item(ns_.name(), "rpc-server"));
  }
  json DestinationRule() {
    return *Kube().Get(kube::kDestinationRules.Item(ns_.name(), "rpc-server"));
  }

  // {stable, canary} weights of the primary route, read back from the API.
  std::pair<int, int> Weights() {
    json route = VirtualService()["spec"]["http"][1]["route"];
    return {route[0].value("weight", -1), route[1].value("weight", -1)};
  }

  std::string SubsetVersion(int index) {
    return DestinationRule()["spec"]["subsets"][index]["labels"].value(
        "version", "");
  }

  grpc::Status Command(const std::string& verb, bool full = false) {
    grpc::ClientContext context;
    v1::RolloutRef ref;
    ref.set_namespace_(ns_.name());
    ref.set_name("rpc-server");
    v1::Rollout out;
    if (verb == "promote") {
      v1::PromoteRequest request;
      *request.mutable_rollout() = ref;
      request.set_full(full);
      return stub_->Promote(&context, request, &out);
    }
    if (verb == "abort") return stub_->Abort(&context, ref, &out);
    if (verb == "retry") return stub_->Retry(&context, ref, &out);
    if (verb == "pause") return stub_->Pause(&context, ref, &out);
    return stub_->Resume(&context, ref, &out);
  }

  TestNamespace ns_;
  CanarydProcess canaryd_{ns_.name()};
  std::unique_ptr<v1::RolloutService::Stub> stub_ = canaryd_.Stub();
};

TEST_F(RolloutTest, ArticlePlanRunsToHealthyWithWeightsCheckedAtEveryStep) {
  WeightRecorder recorder(ns_.name(), "rpc-server", 1);
  Start(Request(ns_.name(), ArticlePlan()));

  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 1));
  EXPECT_EQ(Weights(), std::make_pair(80, 20));
  EXPECT_EQ(SubsetVersion(1), "v2") << "canary subset selects the new version";
  EXPECT_EQ(SubsetVersion(0), "v1");

  ASSERT_TRUE(Command("promote").ok());
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 3));
  EXPECT_EQ(Weights(), std::make_pair(50, 50));
  v1::Rollout paused = Get();
  EXPECT_TRUE(paused.has_pause_started_at());
  EXPECT_NE(paused.message().find("paused for 30s"), std::string::npos)
      << paused.message();

  ASSERT_TRUE(WaitForPhase(v1::HEALTHY, 5, absl::Seconds(90)));
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
  EXPECT_EQ(SubsetVersion(0), "v2")
      << "stable subset takes the canary's labels";
  // The 30 s pause was waited out, measured from its recorded start.
  EXPECT_GE(
      absl::Now() - absl::FromUnixSeconds(paused.pause_started_at().seconds()),
      absl::Seconds(30));
  EXPECT_EQ(recorder.weights(), (std::vector<int>{0, 20, 50, 100, 0}));
  // The route canaryd does not own is untouched.
  EXPECT_EQ(VirtualService()["spec"]["http"][0]["route"][0].contains("weight"),
            false);

  CommandResult status =
      Canaryctl(canaryd_.address(), {"status", "rpc-server", "-n", ns_.name()});
  EXPECT_EQ(status.exit_code, 0) << status.output;
}

TEST_F(RolloutTest, AbortMidwayReturnsAllTrafficToStableAndRetryStartsOver) {
  Start(Request(ns_.name(), ArticlePlan()));
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 1));
  ASSERT_EQ(Weights(), std::make_pair(80, 20));

  CommandResult abort =
      Canaryctl(canaryd_.address(), {"abort", "rpc-server", "-n", ns_.name()});
  ASSERT_EQ(abort.exit_code, 0) << abort.output;
  // No waiting: the reply comes only once the VirtualService shows it.
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
  v1::Rollout aborted = Get();
  EXPECT_EQ(aborted.phase(), v1::DEGRADED);
  EXPECT_NE(aborted.message().find("aborted"), std::string::npos);
  CommandResult status =
      Canaryctl(canaryd_.address(), {"status", "rpc-server", "-n", ns_.name()});
  EXPECT_EQ(status.exit_code, 1) << status.output;

  ASSERT_TRUE(Command("retry").ok());
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 1));
  EXPECT_EQ(Weights(), std::make_pair(80, 20));
}

TEST_F(RolloutTest, KillNineDuringATimedPauseContinuesFromTheRecordedStart) {
  WeightRecorder recorder(ns_.name(), "rpc-server", 1);
  Start(Request(ns_.name(), {SetWeight(30), Pause(8), SetWeight(60), Pause()}));
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 1));
  const v1::Rollout before = Get();
  canaryd_.Kill9();
  absl::SleepFor(absl::Seconds(2));
  // Nothing moves while canaryd is down (read from the API server itself).
  EXPECT_EQ((*Kube().Get(
                kube::kCanaryRollouts.Item(ns_.name(), "rpc-server")))["status"]
                .value("currentStepIndex", -1),
            1);
  canaryd_.Start();
  stub_ = canaryd_.Stub();
  EXPECT_EQ(Get().pause_started_at().seconds(),
            before.pause_started_at().seconds())
      << "the pause keeps its recorded start across the restart";
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 3));
  EXPECT_EQ(Weights(), std::make_pair(40, 60));
  EXPECT_GE(
      absl::Now() - absl::FromUnixSeconds(before.pause_started_at().seconds()),
      absl::Seconds(8));
  EXPECT_EQ(recorder.weights(), (std::vector<int>{0, 30, 60}))
      << "no step repeated or skipped";
}

TEST_F(RolloutTest,
       KillNineDuringAnIndefinitePauseWaitsForPromoteAfterRestart) {
  WeightRecorder recorder(ns_.name(), "rpc-server", 1);
  Start(Request(ns_.name(), {SetWeight(25), Pause(), SetWeight(75), Pause()}));
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 1));
  canaryd_.Kill9();
  canaryd_.Start();
  stub_ = canaryd_.Stub();
  absl::SleepFor(absl::Seconds(3));
  v1::Rollout after = Get();
  EXPECT_EQ(after.phase(), v1::PAUSED);
  EXPECT_EQ(after.current_step_index(), 1);
  EXPECT_EQ(Weights(), std::make_pair(75, 25));
  ASSERT_TRUE(Command("promote").ok());
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 3));
  EXPECT_EQ(recorder.weights(), (std::vector<int>{0, 25, 75}));
  ASSERT_TRUE(Command("promote", /*full=*/true).ok());
  ASSERT_TRUE(WaitForPhase(v1::HEALTHY, 4));
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
}

TEST_F(RolloutTest, ConcurrentEditsOfAnotherRouteSurvive) {
  // Someone keeps editing the admin route while canaryd walks through
  // weights; guarded patches must neither lose their edits nor ours.
  std::atomic<bool> stop{false};
  std::atomic<int> edits{0};
  const std::string path =
      kube::kVirtualServices.Item(ns_.name(), "rpc-server");
  std::thread editor([&] {
    while (!stop) {
      json ops =
          json::array({{{"op", "add"},
                        {"path", "/spec/http/0/timeout"},
                        {"value", absl::StrCat(edits.load() + 1, "s")}}});
      if (Kube().JsonPatch(path, ops).ok()) ++edits;
    }
  });
  Start(Request(ns_.name(),
                {SetWeight(10), SetWeight(20), SetWeight(30), SetWeight(40),
                 SetWeight(50), SetWeight(60), Pause()}));
  const bool reached = WaitForPhase(v1::PAUSED, 6);
  stop = true;
  editor.join();
  ASSERT_TRUE(reached);
  EXPECT_GT(edits.load(), 0);
  EXPECT_EQ(Weights(), std::make_pair(40, 60));
  EXPECT_EQ(VirtualService()["spec"]["http"][0].value("timeout", ""),
            absl::StrCat(edits.load(), "s"));
}

TEST_F(RolloutTest, InvalidSpecIsRefusedWithTheFieldNamedAndNothingStored) {
  // Over gRPC, as a CD system calls it.
  grpc::ClientContext context;
  v1::Rollout out;
  grpc::Status refused = stub_->StartRollout(
      &context, Request(ns_.name(), {SetWeight(120)}), &out);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(),
            "spec.steps[0].setWeight: must be between 0 and 100, got 120");
  EXPECT_TRUE(absl::IsNotFound(
      Kube()
          .Get(kube::kCanaryRollouts.Item(ns_.name(), "rpc-server"))
          .status()));

  // Through canaryctl, from a file.
  const std::string file =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/bad.yaml");
  FILE* f = fopen(file.c_str(), "w");
  fputs(R"(apiVersion: smartcanary.dev/v1alpha1
kind: CanaryRollout
metadata: {name: rpc-server}
spec:
  canaryLabels: {version: v2}
  trafficRouting:
    istio:
      virtualService: {name: rpc-server}
      destinationRule: {name: rpc-server, stableSubsetName: stable, canarySubsetName: canary}
  steps:
  - setWieght: 20
)",
        f);
  fclose(f);
  CommandResult cli =
      Canaryctl(canaryd_.address(), {"start", "-f", file, "-n", ns_.name()});
  EXPECT_NE(cli.exit_code, 0);
  EXPECT_NE(cli.output.find("spec.steps[0].setWieght: unknown step type"),
            std::string::npos)
      << cli.output;
  EXPECT_TRUE(absl::IsNotFound(
      Kube()
          .Get(kube::kCanaryRollouts.Item(ns_.name(), "rpc-server"))
          .status()));

  // kubectl-style writes are checked by the CRD schema in the API server.
  json direct = {
      {"apiVersion", "smartcanary.dev/v1alpha1"},
      {"kind", "CanaryRollout"},
      {"metadata", {{"name", "direct"}}},
      {"spec",
       {{"trafficRouting", {{"istio", {{"virtualService", {{"name", "x"}}}}}}},
        {"steps", json::array({{{"setWeight", 120}}})}}}};
  auto schema =
      Kube().Post(kube::kCanaryRollouts.Collection(ns_.name()), direct);
  EXPECT_TRUE(absl::IsInvalidArgument(schema.status()));
  EXPECT_NE(schema.status().message().find("spec.steps[0].setWeight"),
            absl::string_view::npos)
      << schema.status();

  CommandResult unknown =
      Canaryctl(canaryd_.address(), {"get", "no-such", "-n", ns_.name()});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("no-such not found"), std::string::npos)
      << unknown.output;
  CommandResult bad_promote =
      Canaryctl(canaryd_.address(), {"promote", "no-such", "-n", ns_.name()});
  EXPECT_NE(bad_promote.exit_code, 0);
}

TEST_F(RolloutTest, MissingVirtualServiceDegradesAndPatchesNothing) {
  v1::StartRolloutRequest request = Request(ns_.name(), ArticlePlan());
  request.mutable_spec()->mutable_traffic_routing()->set_virtual_service(
      "does-not-exist");
  const std::string dr_version =
      DestinationRule()["metadata"]["resourceVersion"];
  Start(request);
  ASSERT_TRUE(WaitForPhase(v1::DEGRADED, 0));
  EXPECT_NE(Get().message().find("does-not-exist"), std::string::npos)
      << Get().message();
  EXPECT_EQ(DestinationRule()["metadata"]["resourceVersion"], dr_version)
      << "nothing patched";
  CommandResult status =
      Canaryctl(canaryd_.address(), {"status", "rpc-server", "-n", ns_.name()});
  EXPECT_EQ(status.exit_code, 1) << status.output;
}

TEST_F(RolloutTest, RouteWithoutTheCanaryDestinationDegradesAndPatchesNothing) {
  v1::StartRolloutRequest request = Request(ns_.name(), ArticlePlan());
  request.mutable_spec()->mutable_traffic_routing()->set_canary_subset(
      "preview");
  const std::string vs_version =
      VirtualService()["metadata"]["resourceVersion"];
  const std::string dr_version =
      DestinationRule()["metadata"]["resourceVersion"];
  Start(request);
  ASSERT_TRUE(WaitForPhase(v1::DEGRADED, 0));
  EXPECT_NE(Get().message().find(
                "route \"primary\" has no destination with subset \"preview\""),
            std::string::npos)
      << Get().message();
  EXPECT_EQ(VirtualService()["metadata"]["resourceVersion"], vs_version);
  EXPECT_EQ(DestinationRule()["metadata"]["resourceVersion"], dr_version);
}

TEST_F(RolloutTest, IdenticalSpecChangesNothingAndANewSpecRestartsOnStable) {
  WeightRecorder recorder(ns_.name(), "rpc-server", 1);
  v1::Rollout first = Start(Request(ns_.name(), ArticlePlan()));
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 1));
  v1::Rollout again = Start(Request(ns_.name(), ArticlePlan()));
  EXPECT_EQ(again.generation(), first.generation());
  EXPECT_EQ(Get().current_step_index(), 1);

  v1::Rollout changed = Start(Request(ns_.name(), ArticlePlan(), "v3"));
  EXPECT_EQ(changed.generation(), first.generation() + 1);
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 1));
  EXPECT_EQ(SubsetVersion(1), "v3");
  EXPECT_EQ(Weights(), std::make_pair(80, 20));
  EXPECT_EQ(recorder.weights(), (std::vector<int>{0, 20, 0, 20}))
      << "traffic went back to stable before the new canary got any";
}

TEST_F(RolloutTest, PauseAndResumeHoldARolloutByHand) {
  Start(Request(ns_.name(), {SetWeight(10), Pause(2), SetWeight(40), Pause()}));
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 1));
  ASSERT_TRUE(Command("pause").ok());
  absl::SleepFor(absl::Seconds(4));  // past the 2 s pause
  v1::Rollout held = Get();
  EXPECT_EQ(held.current_step_index(), 1);
  EXPECT_TRUE(held.paused_by_user());
  EXPECT_EQ(Weights(), std::make_pair(90, 10));
  EXPECT_EQ(Command("resume").error_code(), grpc::StatusCode::OK);
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 3));
  EXPECT_EQ(Weights(), std::make_pair(60, 40));
  EXPECT_EQ(Command("resume").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(RolloutTest, CanaryctlShowsTheTreeAndJson) {
  Start(Request(ns_.name(), ArticlePlan()));
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, 1));
  CommandResult tree =
      Canaryctl(canaryd_.address(), {"get", "rpc-server", "-n", ns_.name()});
  ASSERT_EQ(tree.exit_code, 0) << tree.output;
  EXPECT_NE(tree.output.find("॥ Paused"), std::string::npos) << tree.output;
  EXPECT_NE(tree.output.find("stable 80 / canary 20"), std::string::npos)
      << tree.output;
  EXPECT_NE(tree.output.find("├──✔ 1. setWeight 20"), std::string::npos)
      << tree.output;
  CommandResult list =
      Canaryctl(canaryd_.address(), {"list", "-n", ns_.name(), "-o", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  json items = json::parse(list.output)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["phase"], "Paused");
  EXPECT_EQ(items[0]["currentStepIndex"], 1);
  EXPECT_EQ(items[0]["totalSteps"], 5);
  EXPECT_EQ(items[0]["canaryWeight"], 20);
  EXPECT_EQ(items[0]["stableWeight"], 80);
  CommandResult timeout =
      Canaryctl(canaryd_.address(),
                {"status", "rpc-server", "-n", ns_.name(), "--timeout", "1s"});
  EXPECT_EQ(timeout.exit_code, 2) << timeout.output;
}

}  // namespace
}  // namespace smartcanary::testing
