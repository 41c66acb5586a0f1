// canaryd killed with SIGKILL at random moments while 20 rollouts with
// mixed plans run: timed and indefinite pauses, promotions, aborts, and
// analyses that pass and fail (on a real Prometheus, `vector(1)` needs no
// scrape). A sampler reads every VirtualService throughout; no sample may
// show weights outside that rollout's plan, and at the end every rollout is
// in its expected phase with its mesh objects agreeing with its status.
// Two canaryd replicas run with leader election, so a kill hits the leader
// or the standby; the API server is restarted twice mid-run (this test is
// exclusive: nothing else uses the control plane meanwhile).
// SMARTCANARY_FAULT_KILLS sets the number of kills (the test command uses a
// short run; scripts/fault-injection.sh a long one).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
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
      return {Kind::kTimed,
              {SetWeightStep(20), PauseStep(4), SetWeightStep(50), PauseStep(4),
               SetWeightStep(100)},
              {0, 20, 50, 100},
              v1::HEALTHY};
    case Kind::kPromoted:
      return {Kind::kPromoted,
              {SetWeightStep(30), PauseStep(), SetWeightStep(60), PauseStep()},
              {0, 30, 60},
              v1::HEALTHY};
    case Kind::kAborted:
      return {Kind::kAborted,
              {SetWeightStep(40), PauseStep()},
              {0, 40},
              v1::DEGRADED};
    case Kind::kAnalysisPasses:
      return {Kind::kAnalysisPasses,
              {SetWeightStep(25), Analysis("passes"), SetWeightStep(75),
               PauseStep(2), SetWeightStep(100)},
              {0, 25, 75, 100},
              v1::HEALTHY};
    case Kind::kAnalysisFails:
      return {Kind::kAnalysisFails,
              {SetWeightStep(35), Analysis("fails"), SetWeightStep(100)},
              {0, 35},
              v1::DEGRADED};
  }
  return {};
}

class FaultInjectionTest : public ::testing::Test {
 protected:
  std::string Name(int i) { return absl::StrCat("r", i); }
  // One budget for every wait in the test, so a broken control plane fails
  // it in minutes rather than holding the suite for one wait per rollout.
  absl::Duration Remaining() const {
    return std::max(give_up_ - absl::Now(), absl::Seconds(1));
  }
  const absl::Time give_up_ = absl::Now() + absl::Minutes(8);

  // Tries each replica: a standby refuses writes (UNAVAILABLE), a killed
  // one does not answer; the first that does decides.
  grpc::Status Call(
      const std::function<grpc::Status(v1::RolloutService::Stub&,
                                       grpc::ClientContext&)>& rpc) {
    grpc::Status last;
    for (auto& replica : replicas_) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(10));
      last = rpc(*replica->Stub(), context);
      if (last.error_code() != grpc::StatusCode::UNAVAILABLE) return last;
    }
    return last;
  }
  int Leader() {
    for (int i = 0; i < 2; ++i) {
      if (replicas_[i]->Leads(ns_.name())) return i;
    }
    return -1;
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
        Remaining()))
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
  ChildProcess analyzer_{"analyzer-" + ns_.name(),
                         LocalAnalyzerArgv(analyzer_port_)};
  std::vector<std::unique_ptr<CanarydProcess>> replicas_ = [this] {
    std::vector<std::unique_ptr<CanarydProcess>> replicas;
    for (int i = 0; i < 2; ++i) {
      replicas.push_back(std::make_unique<CanarydProcess>(
          ns_.name(),
          std::vector<std::string>{
              absl::StrCat("--analyzer=127.0.0.1:", analyzer_port_),
              "--leader-elect", "--leader-election-namespace=" + ns_.name(),
              "--lease-duration=3s", "--renew-deadline=2s",
              "--retry-period=500ms"}));
    }
    return replicas;
  }();
};

TEST_F(FaultInjectionTest, RolloutsEndRightAndWeightsStayInPlanThroughKills) {
  const char* env = std::getenv("SMARTCANARY_FAULT_KILLS");
  const int kills = env != nullptr ? std::atoi(env) : 16;
  const char* cluster = std::getenv("SMARTCANARY_CLUSTER_DIR");
  ASSERT_TRUE(cluster != nullptr)
      << "run through scripts/test.sh: it passes SMARTCANARY_CLUSTER_DIR, "
         "whose restart agent (scripts/local-cluster.sh) restarts the API "
         "server when asked";
  // Asks local-cluster.sh's agent, outside Bazel, to restart the API server
  // and waits until it has.
  auto restart_api_server = [&] {
    const std::string request =
        absl::StrCat(cluster, "/restart-apiserver.request");
    const std::string done = absl::StrCat(cluster, "/restart-apiserver.done");
    std::remove(done.c_str());
    std::ofstream(request) << "restart\n";
    ASSERT_TRUE(
        WaitFor([&] { return std::ifstream(done).good(); }, absl::Seconds(120)))
        << "the API server was not restarted";
  };

  ns_.Apply(absl::StrReplaceAll(kTemplates, {{"PROM", prometheus_.url()}}));
  std::vector<Plan> plans;
  for (int i = 0; i < kRollouts; ++i) {
    ns_.Apply(SubsetMeshYaml(Name(i)));
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

  // A replica that lost its lease (the API server was away longer than the
  // renew deadline) exits, as it should; here, as in a Deployment, it is
  // started again.
  std::mutex replicas_mu;
  std::atomic<int> exits{0};
  std::thread supervisor([&] {
    while (!stop) {
      {
        std::lock_guard<std::mutex> lock(replicas_mu);
        for (auto& replica : replicas_) {
          if (replica->Exited()) {
            ++exits;
            replica->Start();
          }
        }
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
  });

  // The killer and the person, interleaved: kill at random moments; once a
  // rollout waits at its indefinite pause, promote or abort it.
  std::mt19937 random(20261127);
  std::set<int> commanded;
  int killed = 0, leaders_killed = 0, api_restarts = 0;
  while (killed < kills || commanded.size() < kRollouts * 2 / 5) {
    if (killed < kills) {
      absl::SleepFor(absl::Milliseconds(300 + random() % 1200));
      const int leader = Leader();
      // Mostly the leader: its death is the interesting one.
      const int victim =
          leader >= 0 && random() % 3 != 0 ? leader : random() % 2;
      {
        std::lock_guard<std::mutex> lock(replicas_mu);
        replicas_[victim]->Kill9();
        ++killed;
        if (victim == leader) ++leaders_killed;
        absl::SleepFor(absl::Milliseconds(random() % 500));
        replicas_[victim]->Start();
      }
      if (killed == kills / 3 || killed == 2 * kills / 3) {
        restart_api_server();
        ++api_restarts;
      }
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
    EXPECT_TRUE(
        WaitFor([&] { return Get(i).phase() == plans[i].end; }, Remaining()))
        << Name(i) << " ended as " << Get(i).DebugString();
  }
  stop = true;
  sampler.join();
  supervisor.join();

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
  std::cout << "fault injection: " << killed << " SIGKILLs (" << leaders_killed
            << " of the leader), " << api_restarts << " API server restarts, "
            << exits.load() << " replica exits on a lost lease, " << kRollouts
            << " rollouts, " << agree << " agreeing with their status, "
            << samples.load() << " samples of every VirtualService, "
            << violations.size() << " outside the plan\n";
  EXPECT_GT(samples.load(), 0);
  EXPECT_TRUE(violations.empty()) << violations.front();
}

}  // namespace
}  // namespace smartcanary::testing
