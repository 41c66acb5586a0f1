// canaryd as a shared cluster service: one rollout's hanging Prometheus
// holds nobody else, an abort is on the VirtualService before its reply,
// weights someone else changes are put back, and deleting a rollout
// mid-way returns its traffic to stable. Real kube-apiserver + etcd, real
// canaryd and canary-analyzer; the "Prometheus" that never answers is a
// socket in this test that accepts connections and says nothing.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "controller/kube/resources.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::testing {
namespace {

using nlohmann::json;

// A Prometheus address that accepts connections and never answers.
class SilentServer {
 public:
  SilentServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 64);
    thread_ = std::thread([this] {
      while (!stop_) {
        const int connection = accept(fd_, nullptr, nullptr);
        if (connection >= 0) held_.push_back(connection);
      }
    });
  }
  ~SilentServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    for (int c : held_) close(c);
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }

 private:
  int fd_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> held_;
  std::thread thread_;
};

class ProductionTest : public ::testing::Test {
 protected:
  ProductionTest() {
    for (const char* name : {"alpha", "beta"}) ns_.Apply(SubsetMeshYaml(name));
    ns_.Apply(absl::StrCat(R"(apiVersion: smartcanary.dev/v1alpha1
kind: CanaryAnalysisTemplate
metadata: {name: silent-prometheus}
spec:
  metrics:
  - name: success-rate
    interval: 5s
    successCondition: result[0] >= 0.99
    provider:
      prometheus:
        address: )",
                           silent_.url(), R"(
        timeout: 60
        query: vector(1)
)"));
  }

  v1::StartRolloutRequest Request(const std::string& name,
                                  std::vector<v1::Step> steps) {
    return SubsetRolloutRequest(ns_.name(), name, steps);
  }
  static v1::Step SilentAnalysis() {
    v1::Step step;
    step.mutable_analysis()->add_templates()->set_template_name(
        "silent-prometheus");
    return step;
  }

  void Start(const v1::StartRolloutRequest& request) {
    grpc::ClientContext context;
    v1::Rollout rollout;
    grpc::Status status = stub_->StartRollout(&context, request, &rollout);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  v1::Rollout Get(const std::string& name) {
    grpc::ClientContext context;
    v1::RolloutRef ref;
    ref.set_namespace_(ns_.name());
    ref.set_name(name);
    v1::Rollout rollout;
    stub_->GetRollout(&context, ref, &rollout);
    return rollout;
  }
  bool WaitForPhase(const std::string& name, v1::Phase phase, int step) {
    return WaitFor([&] {
      v1::Rollout r = Get(name);
      return r.phase() == phase && r.current_step_index() == step &&
             r.observed_generation() == r.generation();
    });
  }
  std::pair<int, int> Weights(const std::string& name) {
    json route = (*Kube().Get(kube::kVirtualServices.Item(
        ns_.name(), name)))["spec"]["http"][0]["route"];
    return {route[0].value("weight", -1), route[1].value("weight", -1)};
  }

  SilentServer silent_;
  TestNamespace ns_;
  int analyzer_port_ = FreePort();
  ChildProcess analyzer_{"analyzer-" + ns_.name(),
                         LocalAnalyzerArgv(analyzer_port_)};
  // One worker: even then a hanging measurement must not hold the others.
  CanarydProcess canaryd_{
      ns_.name(),
      {absl::StrCat("--analyzer=127.0.0.1:", analyzer_port_), "--workers=1"}};
  std::unique_ptr<v1::RolloutService::Stub> stub_ = canaryd_.Stub();
};

TEST_F(ProductionTest,
       AHangingPrometheusHoldsOnlyItsOwnRolloutAndAbortIsAtOnce) {
  Start(Request("alpha",
                {SetWeightStep(20), SilentAnalysis(), SetWeightStep(100)}));
  ASSERT_TRUE(WaitFor([&] {
    v1::Rollout a = Get("alpha");
    return a.current_step_index() == 1 && a.analysis_runs_size() > 0;
  })) << Get("alpha").DebugString();
  ASSERT_EQ(Weights("alpha"), std::make_pair(80, 20));

  // beta walks its whole plan while alpha's measurement is still hanging.
  Start(Request("beta", {SetWeightStep(30), PauseStep(1), SetWeightStep(60),
                         PauseStep(1), SetWeightStep(100)}));
  ASSERT_TRUE(WaitForPhase("beta", v1::HEALTHY, 5));
  EXPECT_EQ(Weights("beta"), std::make_pair(100, 0));
  v1::Rollout alpha = Get("alpha");
  EXPECT_EQ(alpha.phase(), v1::PROGRESSING);
  ASSERT_EQ(alpha.analysis_runs_size(), 1);
  ASSERT_EQ(alpha.analysis_runs(0).metrics_size(), 1);
  const v1::MetricStatus& metric = alpha.analysis_runs(0).metrics(0);
  EXPECT_EQ(metric.successful() + metric.failed() + metric.inconclusive() +
                metric.error(),
            0)
      << "beta finished before alpha's first measurement came back";

  // The abort's reply comes only once the VirtualService shows stable 100.
  grpc::ClientContext context;
  v1::RolloutRef ref;
  ref.set_namespace_(ns_.name());
  ref.set_name("alpha");
  v1::Rollout aborted;
  grpc::Status status = stub_->Abort(&context, ref, &aborted);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Weights("alpha"), std::make_pair(100, 0));
  EXPECT_EQ(aborted.phase(), v1::DEGRADED);
  EXPECT_EQ(aborted.canary_weight(), 0);
}

TEST_F(ProductionTest, SigtermStopsBothDaemonsWhileAMeasurementHangs) {
  Start(Request("alpha", {SetWeightStep(20), SilentAnalysis()}));
  ASSERT_TRUE(WaitFor([&] { return Get("alpha").analysis_runs_size() > 0; }));
  // The bound is a guard against hanging, not a timing claim: both stop in
  // well under a second on an idle machine.
  EXPECT_EQ(canaryd_.Terminate(absl::Seconds(30)), 0);
  EXPECT_EQ(analyzer_.Terminate(absl::Seconds(30)), 0);
}

TEST_F(ProductionTest, WeightsChangedBySomeoneElseArePutBack) {
  Start(Request("alpha", {SetWeightStep(20), PauseStep()}));
  ASSERT_TRUE(WaitForPhase("alpha", v1::PAUSED, 1));
  ASSERT_EQ(Weights("alpha"), std::make_pair(80, 20));
  // A GitOps tool's self-heal writing the weights it has in git.
  json ops = json::array({{{"op", "replace"},
                           {"path", "/spec/http/0/route/0/weight"},
                           {"value", 100}},
                          {{"op", "replace"},
                           {"path", "/spec/http/0/route/1/weight"},
                           {"value", 0}}});
  ASSERT_TRUE(
      Kube()
          .JsonPatch(kube::kVirtualServices.Item(ns_.name(), "alpha"), ops)
          .ok());
  EXPECT_TRUE(WaitFor([&] {
    return Weights("alpha") == std::make_pair(80, 20);
  })) << "the drift was never corrected";
  EXPECT_TRUE(WaitFor([&] {
    return HttpGet(canaryd_.metrics_url())
               .find("canaryd_drift_corrections_total 1") != std::string::npos;
  })) << HttpGet(canaryd_.metrics_url());
  EXPECT_EQ(Get("alpha").phase(), v1::PAUSED);
}

TEST_F(ProductionTest, DeletingARolloutMidwayReturnsItsTrafficToStable) {
  Start(Request("alpha", {SetWeightStep(40), PauseStep()}));
  ASSERT_TRUE(WaitForPhase("alpha", v1::PAUSED, 1));
  ASSERT_EQ(Weights("alpha"), std::make_pair(60, 40));
  const std::string path = kube::kCanaryRollouts.Item(ns_.name(), "alpha");
  EXPECT_EQ((*Kube().Get(path))["metadata"]["finalizers"],
            json::array({"smartcanary.dev/traffic"}));
  ASSERT_TRUE(Kube().Delete(path).ok());
  ASSERT_TRUE(WaitFor([&] {
    return absl::IsNotFound(Kube().Get(path).status());
  })) << "the finalizer was never removed";
  EXPECT_EQ(Weights("alpha"), std::make_pair(100, 0));
}

TEST_F(ProductionTest, TwoReplicasOnlyTheLeaderWritesAndTheStandbyTakesOver) {
  const std::vector<std::string> flags = {
      "--leader-elect", "--leader-election-namespace=" + ns_.name(),
      "--lease-duration=3s", "--renew-deadline=2s", "--retry-period=500ms"};
  canaryd_.Kill9();  // the fixture's own single replica
  std::vector<std::unique_ptr<CanarydProcess>> replicas;
  for (int i = 0; i < 2; ++i)
    replicas.push_back(std::make_unique<CanarydProcess>(ns_.name(), flags));
  auto promote = [&](const std::string& name, CanarydProcess& via) {
    grpc::ClientContext context;
    v1::RolloutRef ref;
    ref.set_namespace_(ns_.name());
    ref.set_name(name);
    v1::PromoteRequest promote;
    *promote.mutable_rollout() = ref;
    v1::Rollout out;
    return via.Stub()->Promote(&context, promote, &out);
  };
  auto leader_now = [&] {
    for (int i = 0; i < 2; ++i) {
      if (replicas[i]->Leads(ns_.name())) return i;
    }
    return -1;
  };
  int leader = -1;
  ASSERT_TRUE(WaitFor([&] { return (leader = leader_now()) >= 0; }));
  // Started through the standby: it passes the call to the leader (once it
  // has read the Lease and knows who that is).
  ASSERT_TRUE(WaitFor([&] {
    grpc::ClientContext context;
    v1::Rollout out;
    return replicas[1 - leader]
        ->Stub()
        ->StartRollout(&context,
                       Request("alpha", {SetWeightStep(20), PauseStep(),
                                         SetWeightStep(60), PauseStep()}),
                       &out)
        .ok();
  }));
  const int standby = 1 - leader;
  stub_ = replicas[leader]->Stub();
  ASSERT_TRUE(WaitForPhase("alpha", v1::PAUSED, 1));
  EXPECT_EQ(Weights("alpha"), std::make_pair(80, 20));
  EXPECT_NE(HttpGet(replicas[standby]->metrics_url())
                .find("canaryd_reconciles_total 0"),
            std::string::npos)
      << "the standby reconciled";
  // A command sent to the standby is passed to the leader and takes effect.
  grpc::Status forwarded = promote("alpha", *replicas[standby]);
  ASSERT_TRUE(forwarded.ok()) << forwarded.error_message();
  ASSERT_TRUE(WaitForPhase("alpha", v1::PAUSED, 3));
  EXPECT_EQ(Weights("alpha"), std::make_pair(40, 60));
  EXPECT_NE(HttpGet(replicas[standby]->metrics_url())
                .find("canaryd_reconciles_total 0"),
            std::string::npos)
      << "the standby wrote instead of forwarding";

  replicas[leader]->Kill9();
  stub_ = replicas[standby]->Stub();
  // The standby takes over once the lease runs out: it puts drifted weights
  // back and returns traffic when the rollout is deleted mid-way.
  json ops = json::array({{{"op", "replace"},
                           {"path", "/spec/http/0/route/1/weight"},
                           {"value", 0}},
                          {{"op", "replace"},
                           {"path", "/spec/http/0/route/0/weight"},
                           {"value", 100}}});
  ASSERT_TRUE(
      Kube()
          .JsonPatch(kube::kVirtualServices.Item(ns_.name(), "alpha"), ops)
          .ok());
  EXPECT_TRUE(WaitFor([&] {
    return Weights("alpha") == std::make_pair(40, 60);
  })) << "the new leader did not put the drifted weights back";

  const std::string path = kube::kCanaryRollouts.Item(ns_.name(), "alpha");
  ASSERT_TRUE(Kube().Delete(path).ok());
  ASSERT_TRUE(
      WaitFor([&] { return absl::IsNotFound(Kube().Get(path).status()); }));
  EXPECT_EQ(Weights("alpha"), std::make_pair(100, 0));
}

}  // namespace
}  // namespace smartcanary::testing
