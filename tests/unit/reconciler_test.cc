// The Reconciler against the in-memory API server (FakeKube), the real
// Istio router and a fake analyzer that holds measurements until the test
// answers them: the orderings a user relies on (traffic before status,
// finalizer before traffic), and that nothing waits on analysis.
#include "controller/reconciler.h"

#include <gtest/gtest.h>

#include <deque>

#include "absl/synchronization/mutex.h"
#include "controller/istio/istio_router.h"
#include "controller/kube/cached_kube_api.h"
#include "controller/kube/fake_kube.h"
#include "controller/kube/resources.h"
#include "controller/rollout_finalizer.h"
#include "tests/unit/cache_feeder.h"
#include "tests/unit/rollout_specs.h"

namespace smartcanary {
namespace {

using nlohmann::json;

constexpr char kNs[] = "team-a";

// Holds every measurement call until Answer().
class HeldAnalyzer : public Analyzer {
 public:
  void MeasureAsync(const std::vector<const MetricSpec*>& metrics,
                    const std::map<std::string, std::string>&,
                    const v1::RolloutContext&, absl::Time now,
                    MeasuredCallback done) override {
    Call call{{}, now, std::move(done)};
    for (const MetricSpec* metric : metrics)
      call.metrics.push_back(metric->name);
    absl::MutexLock lock(&mu_);
    held_.push_back(std::move(call));
  }
  int Held() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(held_.size());
  }
  // Answers the oldest held call: every metric with `phase` and `value`.
  void Answer(MeasurementPhase phase, double value) {
    Call call;
    {
      absl::MutexLock lock(&mu_);
      call = std::move(held_.front());
      held_.pop_front();
    }
    std::vector<NamedMeasurement> out;
    for (const std::string& metric : call.metrics) {
      MeasurementRecord record;
      record.phase = phase;
      record.values = {value};
      record.at = call.at;
      record.message = "fake";
      out.emplace_back(metric, record);
    }
    call.done(out);
  }

 private:
  struct Call {
    std::vector<std::string> metrics;
    absl::Time at;
    MeasuredCallback done;
  };
  absl::Mutex mu_;
  std::deque<Call> held_ ABSL_GUARDED_BY(mu_);
};

Step SetWeight(int weight) {
  Step step;
  step.weight = weight;
  return step;
}
Step Pause() {
  Step step;
  step.kind = Step::Kind::kPause;
  return step;
}
Step AnalysisStep() {
  Step step;
  step.kind = Step::Kind::kAnalysis;
  step.analysis.templates = {{"success", false}};
  return step;
}

// The reconciler reads either the API server itself or, as canaryd does by
// default, the watch cache in front of it (fed by watches on the fake).
class ReconcilerFixture : public ::testing::Test {
 protected:
  explicit ReconcilerFixture(bool cached = false)
      : client_(cached ? static_cast<const kube::KubeApi&>(cache_) : kube_) {
    Seed(kube::kVirtualServices, SubsetVirtualServiceJson(kNs));
    Seed(kube::kDestinationRules, SubsetDestinationRuleJson(kNs));
    Seed(kube::kAnalysisTemplates,
         {{"metadata", {{"name", "success"}}},
          {"spec",
           {{"metrics",
             {{{"name", "rate"},
               {"interval", "5s"},
               {"count", 1},
               {"successCondition", "result[0] >= 1"},
               {"provider",
                {{"prometheus",
                  {{"address", "http://prometheus:9090"},
                   {"query", "vector(1)"}}}}}}}}}}});
    kube_.SetHook([this](const std::string& method, const std::string& path) {
      if (method != "GET" && method != "WATCH") {
        absl::MutexLock lock(&mu_);
        writes_.push_back(method + " " + path);
      }
      return absl::OkStatus();
    });
    if (cached) {
      feeder_ = std::make_unique<testing::CacheFeeder>(
          kube_, cache_,
          std::vector<kube::Resource>{
              kube::kCanaryRollouts, kube::kAnalysisTemplates,
              kube::kVirtualServices, kube::kDestinationRules},
          kNs);
    }
  }

  // The watches stop before anything they feed is gone.
  ~ReconcilerFixture() override { feeder_.reset(); }

  void Seed(const kube::Resource& resource, json object) {
    object["metadata"]["namespace"] = kNs;
    ASSERT_TRUE(kube_.Seed(resource.Collection(kNs), object).ok());
  }
  void Create(std::vector<Step> steps) {
    ASSERT_TRUE(kube_
                    .Post(kube::kCanaryRollouts.Collection(kNs),
                          NewCanaryRolloutJson(kNs, "web",
                                               SubsetRouted(std::move(steps))))
                    .ok());
  }
  // As the Controller runs it: after the watch delivered what woke it.
  absl::StatusOr<absl::Duration> Reconcile() {
    if (feeder_ != nullptr) {
      EXPECT_TRUE(feeder_->CatchUp());
    }
    return reconciler_.Reconcile(kNs, "web", absl::Now());
  }
  // Reconciles until nothing is due at once (at most 20 passes).
  void Settle() {
    for (int i = 0; i < 20; ++i) {
      auto requeue = Reconcile();
      ASSERT_TRUE(requeue.ok()) << requeue.status();
      if (*requeue != absl::ZeroDuration()) return;
    }
  }
  json Rollout() { return *kube_.Peek(kube::kCanaryRollouts.Item(kNs, "web")); }
  std::pair<int, int> Weights() {
    json route = (*kube_.Peek(
        kube::kVirtualServices.Item(kNs, "vs")))["spec"]["http"][0]["route"];
    return {route[0].value("weight", -1), route[1].value("weight", -1)};
  }
  std::vector<std::string> Writes() {
    absl::MutexLock lock(&mu_);
    return writes_;
  }
  void ClearWrites() {
    absl::MutexLock lock(&mu_);
    writes_.clear();
  }

  kube::FakeKube kube_;
  kube::CachedKubeApi cache_{kube_,
                             {kube::kCanaryRollouts, kube::kAnalysisTemplates,
                              kube::kClusterAnalysisTemplates,
                              kube::kVirtualServices, kube::kDestinationRules},
                             kNs};
  const kube::KubeApi& client_;
  std::unique_ptr<testing::CacheFeeder> feeder_;
  HeldAnalyzer analyzer_;
  Metrics metrics_;
  std::atomic<int> wakes_{0};
  std::atomic<bool> may_write_{true};
  Reconciler reconciler_{
      client_,
      {[this](const CanaryRollout& r) {
         return std::make_unique<istio::IstioRouter>(client_, r.namespace_name,
                                                     r.spec.traffic_routing);
       },
       &analyzer_, nullptr, &metrics_, [this](const std::string&) { ++wakes_; },
       [this] { return may_write_.load(); },
       // As canaryd: returns to stable read the server, never the cache.
       [this](const CanaryRollout& r) {
         return std::make_unique<istio::IstioRouter>(kube_, r.namespace_name,
                                                     r.spec.traffic_routing);
       }}};
  absl::Mutex mu_;
  std::vector<std::string> writes_ ABSL_GUARDED_BY(mu_);
};

// Every behaviour below holds whether reads go to the server or the cache.
class ReconcilerTest : public ReconcilerFixture,
                       public ::testing::WithParamInterface<bool> {
 protected:
  ReconcilerTest() : ReconcilerFixture(GetParam()) {}
};
INSTANTIATE_TEST_SUITE_P(ServerOrCache, ReconcilerTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Cached" : "Server";
                         });

// These count on a read reaching the server, which the cache would answer.
using ReconcilerServerTest = ReconcilerFixture;

class ReconcilerCachedTest : public ReconcilerFixture {
 protected:
  ReconcilerCachedTest() : ReconcilerFixture(/*cached=*/true) {}
  // Someone else's write of the weights, straight to the server.
  void SetServerWeights(int stable, int canary) {
    ASSERT_TRUE(
        kube_
            .JsonPatch(kube::kVirtualServices.Item(kNs, "vs"),
                       json::array({{{"op", "replace"},
                                     {"path", "/spec/http/0/route/0/weight"},
                                     {"value", stable}},
                                    {{"op", "replace"},
                                     {"path", "/spec/http/0/route/1/weight"},
                                     {"value", canary}}}))
            .ok());
  }
};

const std::string kStatusPath =
    kube::kCanaryRollouts.Item(kNs, "web") + "/status";
const std::string kVsPath = kube::kVirtualServices.Item(kNs, "vs");

TEST_P(ReconcilerTest, TheFinalizerComesBeforeAnyWeightMoves) {
  Create({SetWeight(20), Pause()});
  ClearWrites();
  Settle();
  EXPECT_EQ(Weights(), std::make_pair(80, 20));
  EXPECT_TRUE(HasTrafficFinalizer(Rollout()));
  const std::vector<std::string> writes = Writes();
  ASSERT_FALSE(writes.empty());
  EXPECT_EQ(writes.front(), "PATCH " + kube::kCanaryRollouts.Item(kNs, "web"));
}

TEST_P(ReconcilerTest, AReconcileNeverWaitsForAMeasurement) {
  Create({SetWeight(20), AnalysisStep(), SetWeight(50), Pause()});
  Settle();
  EXPECT_EQ(analyzer_.Held(), 1) << "the measurement was started";
  // The pass returned while the call is held; another pass starts no
  // second call for the same measurement.
  Settle();
  EXPECT_EQ(analyzer_.Held(), 1);
  EXPECT_EQ(Weights(), std::make_pair(80, 20));
  analyzer_.Answer(MeasurementPhase::kSuccessful, 1);
  EXPECT_EQ(wakes_.load(), 1) << "the answer wakes the rollout";
  Settle();
  EXPECT_EQ(Weights(), std::make_pair(50, 50));
  EXPECT_EQ(Rollout()["status"]["phase"], "Paused");
}

TEST_P(ReconcilerTest, AbortMovesTrafficBeforeItsStatusWhileAMeasurementHangs) {
  Create({SetWeight(20), AnalysisStep(), SetWeight(50)});
  Settle();
  ASSERT_EQ(analyzer_.Held(), 1);
  ClearWrites();
  auto aborted =
      reconciler_.RunCommand(kNs, "web", Command::kAbort, absl::Now());
  ASSERT_TRUE(aborted.ok()) << aborted.status();
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
  EXPECT_EQ(aborted->rollout.status.phase, Phase::kDegraded);
  const std::vector<std::string> writes = Writes();
  ASSERT_GE(writes.size(), 2u);
  EXPECT_EQ(writes[0], "PATCH " + kVsPath);
  EXPECT_EQ(writes[1], "PATCH " + kStatusPath);
  // The measurement that comes back afterwards changes nothing.
  analyzer_.Answer(MeasurementPhase::kSuccessful, 1);
  Settle();
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
  EXPECT_EQ(Rollout()["status"]["phase"], "Degraded");
}

TEST_P(ReconcilerTest, AnAbortThatCannotMoveTrafficChangesNothing) {
  Create({SetWeight(20), Pause()});
  Settle();
  const json before = Rollout()["status"];
  kube_.FailNext(5, 503, "PATCH");
  auto aborted =
      reconciler_.RunCommand(kNs, "web", Command::kAbort, absl::Now());
  EXPECT_TRUE(absl::IsUnavailable(aborted.status())) << aborted.status();
  EXPECT_NE(aborted.status().message().find("nothing was changed"),
            std::string::npos);
  EXPECT_EQ(Rollout()["status"], before);
  EXPECT_EQ(Weights(), std::make_pair(80, 20));
}

TEST_P(ReconcilerTest, DriftIsPutBackAndCounted) {
  Create({SetWeight(20), Pause()});
  Settle();
  ASSERT_TRUE(kube_
                  .JsonPatch(kVsPath, json::array({{{"op", "replace"},
                                                    {"path",
                                                     "/spec/http/0/route/0/"
                                                     "weight"},
                                                    {"value", 100}},
                                                   {{"op", "replace"},
                                                    {"path",
                                                     "/spec/http/0/route/1/"
                                                     "weight"},
                                                    {"value", 0}}}))
                  .ok());
  EXPECT_EQ(reconciler_.RolloutsUsing("virtualservices/team-a/vs"),
            std::vector<std::string>{"team-a/web"});
  Settle();
  EXPECT_EQ(Weights(), std::make_pair(80, 20));
  EXPECT_EQ(metrics_.Get("canaryd_drift_corrections_total"), 1u);
  Settle();
  EXPECT_EQ(metrics_.Get("canaryd_drift_corrections_total"), 1u)
      << "a planned weight is not drift";
}

TEST_P(ReconcilerTest, DeletingMidwayReturnsTrafficThenLetsTheObjectGo) {
  Create({SetWeight(40), Pause()});
  Settle();
  ASSERT_EQ(Weights(), std::make_pair(60, 40));
  ASSERT_TRUE(kube_.Delete(kube::kCanaryRollouts.Item(kNs, "web")).ok());
  EXPECT_TRUE(kube_.Peek(kube::kCanaryRollouts.Item(kNs, "web")).ok())
      << "held by the finalizer";
  Settle();
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
  EXPECT_TRUE(absl::IsNotFound(
      kube_.Peek(kube::kCanaryRollouts.Item(kNs, "web")).status()));
  EXPECT_TRUE(reconciler_.RolloutsUsing("virtualservices/team-a/vs").empty());
}

TEST_P(ReconcilerTest, ADegradeThatCannotReachStableSaysSoAndKeepsTheWeight) {
  Create({SetWeight(30), Pause()});
  Settle();
  ASSERT_TRUE(kube_.Delete(kVsPath).ok());
  Settle();
  const json status = Rollout()["status"];
  EXPECT_EQ(status["phase"], "Degraded");
  EXPECT_EQ(status.value("canaryWeight", -1), 30);
  EXPECT_NE(status["message"].get<std::string>().find(
                "traffic could not be returned to stable"),
            std::string::npos)
      << status["message"];
}

TEST_P(ReconcilerTest, WithoutTheLeaseNothingIsWritten) {
  may_write_ = false;
  Create({SetWeight(20), Pause()});
  ClearWrites();
  auto requeue = Reconcile();
  EXPECT_TRUE(absl::IsUnavailable(requeue.status())) << requeue.status();
  EXPECT_TRUE(Writes().empty());
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
  auto command =
      reconciler_.RunCommand(kNs, "web", Command::kAbort, absl::Now());
  EXPECT_FALSE(command.ok());
  EXPECT_TRUE(Writes().empty());
}

// The cache shows stable 100 while the server, edited a moment ago, does
// not: an abort that trusted the cache would patch nothing and report
// stable; it reads the server, patches and reads back.
TEST_F(ReconcilerCachedTest, AnAbortActsOnTheServersWeightsNotTheCaches) {
  Create({SetWeight(20), Pause()});
  Settle();
  ASSERT_EQ(Weights(), std::make_pair(80, 20));
  SetServerWeights(100, 0);
  ASSERT_TRUE(feeder_->CatchUp());
  feeder_.reset();  // the watch delivers nothing more
  SetServerWeights(80, 20);
  ASSERT_EQ(Weights(), std::make_pair(80, 20));
  ClearWrites();
  auto aborted =
      reconciler_.RunCommand(kNs, "web", Command::kAbort, absl::Now());
  ASSERT_TRUE(aborted.ok()) << aborted.status();
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
  const std::vector<std::string> writes = Writes();
  ASSERT_FALSE(writes.empty());
  EXPECT_EQ(writes.front(), "PATCH " + kVsPath);
}

TEST_F(ReconcilerServerTest, AnExceptionDegradesTheRolloutAndReturnsTraffic) {
  Create({SetWeight(20), Pause()});
  Settle();
  ASSERT_EQ(Weights(), std::make_pair(80, 20));
  // The next call into the API server throws, as a library bug would.
  std::atomic<bool> thrown{false};
  kube_.SetHook([&](const std::string&, const std::string&) {
    if (!thrown.exchange(true)) throw std::runtime_error("boom");
    return absl::OkStatus();
  });
  auto requeue = Reconcile();
  ASSERT_TRUE(requeue.ok()) << requeue.status();
  EXPECT_EQ(*requeue, absl::InfiniteDuration());
  EXPECT_TRUE(thrown.load());
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
  const json status = Rollout()["status"];
  EXPECT_EQ(status["phase"], "Degraded");
  EXPECT_EQ(status["canaryWeight"], 0);
  EXPECT_NE(status["message"].get<std::string>().find("internal error: boom"),
            std::string::npos)
      << status.dump();
}

TEST_F(ReconcilerServerTest, AnExceptionInACommandIsAnInternalError) {
  Create({SetWeight(20), Pause()});
  Settle();
  kube_.SetHook([](const std::string&, const std::string&) -> absl::Status {
    throw std::runtime_error("boom");
  });
  auto result =
      reconciler_.RunCommand(kNs, "web", Command::kPromote, absl::Now());
  EXPECT_TRUE(absl::IsInternal(result.status())) << result.status();
  EXPECT_NE(result.status().message().find("internal error: boom"),
            absl::string_view::npos);
}

}  // namespace
}  // namespace smartcanary
