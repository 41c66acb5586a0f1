// canaryd killed with SIGKILL at random moments while 20 rollouts with
// mixed plans run: timed and indefinite pauses, promotions, aborts, and
// analyses that pass and fail (on a real Prometheus, `vector(1)` needs no
// scrape). A sampler reads every VirtualService throughout; no sample may
// show weights outside that rollout's plan, and at the end every rollout is
// in its expected phase with its mesh objects agreeing with its status.
// SMARTCANARY_FAULT_KILLS sets the number of kills (the test command uses a
// short run; scripts/fault-injection.sh a long one).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "controller/kube/resources.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::testing {
namespace {

using nlohmann::json;

constexpr int kRollouts = 20;

constexpr char kMesh[] = R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: NAME}
spec:
  hosts: [NAME]
  http:
  - route:
    - destination: {host: NAME, subset: stable}
      weight: 100
    - destination: {host: NAME, subset: canary}
      weight: 0
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: NAME}
spec:
  host: NAME
  subsets:
  - name: stable
    labels: {version: v1}
  - name: canary
    labels: {version: v1}
)";

constexpr char kTemplates[] = R"(apiVersion: smartcanary.dev/v1alpha1
kind: CanaryAnalysisTemplate
metadata: {name: passes}
spec:
  metrics:
  - name: constant
    interval: 2s
    count: 2
    successCondition: result[0] >= 1
    provider:
      prometheus: {address: "PROM", query: vector(1)}
---
apiVersion: smartcanary.dev/v1alpha1
kind: CanaryAnalysisTemplate
metadata: {name: fails}
spec:
  metrics:
  - name: constant
    interval: 2s
    count: 2
    successCondition: result[0] >= 2
    provider:
      prometheus: {address: "PROM", query: vector(1)}
)";

// What happens to rollout i, by i % 5.
enum class Kind {
  kTimed,
  kPromoted,
  kAborted,
  kAnalysisPasses,
  kAnalysisFails
};

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
v1::Step Analysis(const std::string& name) {
  v1::Step step;
  step.mutable_analysis()->add_templates()->set_template_name(name);
  return step;
}

struct Plan {
  Kind kind;
  std::vector<v1::Step> steps;
  std::set<int> weights;  // every canary weight the plan allows, 0 included
  v1::Phase end;
};

Plan PlanFor(int i) {
  switch (static_cast<Kind>(i % 5)) {
    case Kind::kTimed:
      return {
          Kind::kTimed,
          {SetWeight(20), Pause(4), SetWeight(50), Pause(4), SetWeight(100)},
          {0, 20, 50, 100},
          v1::HEALTHY};
    case Kind::kPromoted:
      return {Kind::kPromoted,
              {SetWeight(30), Pause(), SetWeight(60), Pause()},
              {0, 30, 60},
              v1::HEALTHY};
    case Kind::kAborted:
      return {Kind::kAborted, {SetWeight(40), Pause()}, {0, 40}, v1::DEGRADED};
    case Kind::kAnalysisPasses:
      return {Kind::kAnalysisPasses,
              {SetWeight(25), Analysis("passes"), SetWeight(75), Pause(2),
               SetWeight(100)},
              {0, 25, 75, 100},
              v1::HEALTHY};
    case Kind::kAnalysisFails:
      return {Kind::kAnalysisFails,
              {SetWeight(35), Analysis("fails"), SetWeight(100)},
              {0, 35},
              v1::DEGRADED};
  }
  return {};
}

class FaultInjectionTest : public ::testing::Test {
 protected:
  std::string Name(int i) { return absl::StrCat("r", i); }

  grpc::Status Call(
      const std::function<grpc::Status(v1::RolloutService::Stub&,
                                       grpc::ClientContext&)>& rpc) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    return rpc(*canaryd_.Stub(), context);
  }
  // Retries while canaryd is down (killed by the test).
  void Eventually(const std::string& what,
                  const std::function<grpc::Status(
                      v1::RolloutService::Stub&, grpc::ClientContext&)>& rpc) {
    grpc::Status last;
    EXPECT_TRUE(WaitFor(
        [&] {
          last = Call(rpc);
          return last.ok();
        },
        absl::Seconds(120)))
        << what << ": " << last.error_message();
  }
  v1::Rollout Get(int i) {
    v1::Rollout out;
    Call([&](v1::RolloutService::Stub& stub, grpc::ClientContext& context) {
      v1::RolloutRef ref;
      ref.set_namespace_(ns_.name());
      ref.set_name(Name(i));
      return stub.GetRollout(&context, ref, &out);
    });
    return out;
  }

  TestNamespace ns_;
  PrometheusProcess prometheus_{{}};
  int analyzer_port_ = FreePort();
  ChildProcess analyzer_{
      "analyzer-" + ns_.name(),
      {RunfilePath("analysis/canary-analyzer"),
       absl::StrCat("--grpc-listen=127.0.0.1:", analyzer_port_)}};
  CanarydProcess canaryd_{
      ns_.name(), {absl::StrCat("--analyzer=127.0.0.1:", analyzer_port_)}};
};

TEST_F(FaultInjectionTest, RolloutsEndRightAndWeightsStayInPlanThroughKills) {
  const char* env = std::getenv("SMARTCANARY_FAULT_KILLS");
  const int kills = env != nullptr ? std::atoi(env) : 12;
  ns_.Apply(absl::StrReplaceAll(kTemplates, {{"PROM", prometheus_.url()}}));
  std::vector<Plan> plans;
  for (int i = 0; i < kRollouts; ++i) {
    ns_.Apply(absl::StrReplaceAll(kMesh, {{"NAME", Name(i)}}));
    plans.push_back(PlanFor(i));
  }

  // The sampler: one list of every VirtualService at a time.
  std::atomic<bool> stop{false};
  std::atomic<int> samples{0};
  std::mutex mu;
  std::vector<std::string> violations;
  std::thread sampler([&] {
    while (!stop) {
      auto list = Kube().Get(kube::kVirtualServices.Collection(ns_.name()));
      if (list.ok()) {
        for (const json& vs : (*list)["items"]) {
          const std::string name = vs["metadata"].value("name", "");
          const int i = std::atoi(name.c_str() + 1);
          const json& route = vs["spec"]["http"][0]["route"];
          const int stable = route[0].value("weight", -1);
          const int canary = route[1].value("weight", -1);
          if (stable + canary != 100 || plans[i].weights.count(canary) == 0) {
            std::lock_guard<std::mutex> lock(mu);
            violations.push_back(
                absl::StrCat(name, ": stable ", stable, " canary ", canary));
          }
        }
        ++samples;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  });

  for (int i = 0; i < kRollouts; ++i) {
    v1::StartRolloutRequest request;
    request.set_namespace_(ns_.name());
    request.set_name(Name(i));
    v1::RolloutSpec* spec = request.mutable_spec();
    spec->mutable_traffic_routing()->set_virtual_service(Name(i));
    spec->mutable_traffic_routing()->set_destination_rule(Name(i));
    spec->mutable_traffic_routing()->set_stable_subset("stable");
    spec->mutable_traffic_routing()->set_canary_subset("canary");
    (*spec->mutable_canary_labels())["version"] = "v2";
    for (const v1::Step& step : plans[i].steps) *spec->add_steps() = step;
    v1::Rollout out;
    Eventually("start " + Name(i), [&](v1::RolloutService::Stub& stub,
                                       grpc::ClientContext& context) {
      return stub.StartRollout(&context, request, &out);
    });
  }

  // The killer and the person, interleaved: kill at random moments; once a
  // rollout waits at its indefinite pause, promote or abort it.
  std::mt19937 random(20261127);
  std::set<int> commanded;
  int killed = 0;
  while (killed < kills || commanded.size() < kRollouts * 2 / 5) {
    if (killed < kills) {
      absl::SleepFor(absl::Milliseconds(300 + random() % 1200));
      canaryd_.Kill9();
      ++killed;
      absl::SleepFor(absl::Milliseconds(random() % 500));
      canaryd_.Start();
    }
    for (int i = 0; i < kRollouts; ++i) {
      const Kind kind = plans[i].kind;
      if ((kind != Kind::kPromoted && kind != Kind::kAborted) ||
          commanded.count(i) > 0)
        continue;
      v1::Rollout r = Get(i);
      if (r.phase() != v1::PAUSED || r.current_step_index() != 1) continue;
      commanded.insert(i);
      v1::RolloutRef ref;
      ref.set_namespace_(ns_.name());
      ref.set_name(Name(i));
      v1::Rollout out;
      Eventually(Name(i), [&](v1::RolloutService::Stub& stub,
                              grpc::ClientContext& context) {
        if (kind == Kind::kAborted) return stub.Abort(&context, ref, &out);
        v1::PromoteRequest promote;
        *promote.mutable_rollout() = ref;
        promote.set_full(true);
        return stub.Promote(&context, promote, &out);
      });
    }
    if (killed >= kills) absl::SleepFor(absl::Milliseconds(200));
  }

  for (int i = 0; i < kRollouts; ++i) {
    EXPECT_TRUE(WaitFor([&] { return Get(i).phase() == plans[i].end; },
                        absl::Seconds(120)))
        << Name(i) << " ended as " << Get(i).DebugString();
  }
  stop = true;
  sampler.join();

  int agree = 0;
  for (int i = 0; i < kRollouts; ++i) {
    const v1::Rollout r = Get(i);
    const json vs =
        *Kube().Get(kube::kVirtualServices.Item(ns_.name(), Name(i)));
    const json dr =
        *Kube().Get(kube::kDestinationRules.Item(ns_.name(), Name(i)));
    const int canary = vs["spec"]["http"][0]["route"][1].value("weight", -1);
    const std::string stable_version =
        dr["spec"]["subsets"][0]["labels"].value("version", "");
    const bool healthy = plans[i].end == v1::HEALTHY;
    EXPECT_EQ(canary, r.canary_weight()) << Name(i);
    EXPECT_EQ(canary, 0) << Name(i);
    EXPECT_EQ(stable_version, healthy ? "v2" : "v1") << Name(i);
    if (canary == r.canary_weight() &&
        stable_version == (healthy ? "v2" : "v1"))
      ++agree;
  }
  std::lock_guard<std::mutex> lock(mu);
  std::cout << "fault injection: " << killed << " SIGKILLs, " << kRollouts
            << " rollouts, " << agree << " agreeing with their status, "
            << samples.load() << " samples of every VirtualService, "
            << violations.size() << " outside the plan\n";
  EXPECT_GT(samples.load(), 0);
  EXPECT_TRUE(violations.empty()) << violations.front();
}

}  // namespace
}  // namespace smartcanary::testing
