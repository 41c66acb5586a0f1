// canaryd's pre-flight (spec.preflight: warn | enforce) on the real servers:
// kube-apiserver + etcd, Debian's Prometheus scraping Istio's request
// counters for the stable at a chosen rate, the real canary-analyzer and
// canaryd. The plan is the same in every case (20% for 5 minutes); the
// stable's traffic decides whether a 2x regression could show within it
// (docs/BACKTEST.md, "In a rollout: spec.preflight").
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controller/kube/resources.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/istio_exporter.h"

namespace smartcanary::testing {
namespace {

using nlohmann::json;

constexpr char kName[] = "checkout";

// The comparative metric the pre-flight is for: the canary's 5xx against
// the stable's (v1), with maxBurst given so the times do not hang on a
// default.
constexpr char kTemplate[] = R"(apiVersion: smartcanary.dev/v1alpha1
kind: CanaryAnalysisTemplate
metadata: {name: errors-vs-stable}
spec:
  args:
  - name: prometheus
  metrics:
  - name: errors
    interval: 5s
    provider:
      comparative:
        prometheus: {address: "{{args.prometheus}}"}
        istio:
          service: checkout
          event: http-5xx
          canary: {destination_canonical_revision: v2}
          baseline: {destination_canonical_revision: v1}
        alpha: 0.01
        margin: 0.25
        maxBurst: 5
)";

// At 2 req/s with 10% errors a 2x regression at 20% weight needs over an
// hour to show (the information bound), at 1000 req/s with 5% a few seconds:
// both an order of magnitude or more from the plan's 5 minutes, so the
// verdict cannot flip on the rates Prometheus happens to see.
constexpr double kLowRps = 2, kLowErrors = 0.1;
constexpr double kHighRps = 1000, kHighErrors = 0.05;
constexpr int kPauseSeconds = 300;

class PreflightRolloutTest : public ::testing::Test {
 protected:
  PreflightRolloutTest() {
    ns_.Apply(SubsetMeshYaml(kName));
    ns_.Apply(kTemplate);
  }

  // The stable (v1) serving `rps` with `error_share` 503s, scraped until
  // Prometheus has the rates the pre-flight reads: the analyzer samples the
  // counters at the metric's resolution (5 s), so 20 scrapes (1 s apart)
  // give it several samples, and some errors among them (else it would be
  // Unknown, which holds nothing, or say the stable shows no errors). Then
  // the analyzer and canaryd.
  void Serve(double rps, double error_share) {
    exporter_ = std::make_unique<IstioExporter>(
        std::vector<IstioArm>{{{{"destination_service_name", kName},
                                {"destination_canonical_revision", "v1"}},
                               rps,
                               error_share}});
    prometheus_ = std::make_unique<PrometheusProcess>(
        std::vector<std::string>{exporter_->target()});
    ASSERT_TRUE(prometheus_->WaitForData(
        "count_over_time(istio_requests_total{response_code=\"503\"}[5m]) "
        ">= 20 and istio_requests_total{response_code=\"503\"} >= 3",
        absl::Seconds(180)));
    analyzer_ = std::make_unique<ChildProcess>(
        "analyzer-" + ns_.name(), LocalAnalyzerArgv(analyzer_port_));
    // Listening before canaryd asks: an analyzer not yet up makes the first
    // pre-flight Unknown, which lets even enforce give the canary weight.
    ASSERT_TRUE(grpc::CreateChannel(absl::StrCat("127.0.0.1:", analyzer_port_),
                                    grpc::InsecureChannelCredentials())
                    ->WaitForConnected(std::chrono::system_clock::now() +
                                       std::chrono::seconds(60)))
        << "the analyzer did not start";
    canaryd_ = std::make_unique<CanarydProcess>(
        ns_.name(), std::vector<std::string>{
                        absl::StrCat("--analyzer=127.0.0.1:", analyzer_port_)});
    stub_ = canaryd_->Stub();
  }

  // 20% for kPauseSeconds, then the comparative analysis, then 100%.
  void Start(const std::string& policy) {
    v1::Step analysis;
    analysis.mutable_analysis()->add_templates()->set_template_name(
        "errors-vs-stable");
    v1::Arg* arg = analysis.mutable_analysis()->add_args();
    arg->set_name("prometheus");
    arg->set_value(prometheus_->url());
    v1::StartRolloutRequest request =
        SubsetRolloutRequest(ns_.name(), kName,
                             {SetWeightStep(20), PauseStep(kPauseSeconds),
                              analysis, SetWeightStep(100)});
    request.mutable_spec()->set_preflight(policy);
    recorder_ = std::make_unique<WeightRecorder>(ns_.name(), kName);
    grpc::ClientContext context;
    v1::Rollout started;
    const grpc::Status status =
        stub_->StartRollout(&context, request, &started);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // The CanaryRollout's status as the API server holds it.
  json Status() const {
    auto object = Kube().Get(kube::kCanaryRollouts.Item(ns_.name(), kName));
    if (!object.ok() || !(*object)["status"].is_object()) return json::object();
    return (*object)["status"];
  }

  static std::string Text(const json& object, const char* key) {
    return object.contains(key) && object[key].is_string()
               ? object[key].get<std::string>()
               : "";
  }

  // status.preflight, or an empty object before the first.
  static json PreflightOf(const json& status) {
    auto it = status.find("preflight");
    return it != status.end() && it->is_object() ? *it : json::object();
  }
  std::string PreflightResult() const {
    return Text(PreflightOf(Status()), "result");
  }

  int CanaryWeight() const {
    auto vs = Kube().Get(kube::kVirtualServices.Item(ns_.name(), kName));
    if (!vs.ok()) return -1;
    return (*vs)["spec"]["http"][0]["route"][1].value("weight", -1);
  }

  struct Event {
    std::string reason, type, message;
  };
  // The rollout's Events as the API lists them by field selector.
  std::vector<Event> Events() const {
    std::vector<Event> out;
    auto list = Kube().Get(absl::StrCat(
        "/api/v1/namespaces/", ns_.name(),
        "/events?fieldSelector=involvedObject.kind%3DCanaryRollout,"
        "involvedObject.name%3D",
        kName));
    if (!list.ok() || !(*list)["items"].is_array()) return out;
    for (const json& item : (*list)["items"])
      out.push_back(
          {Text(item, "reason"), Text(item, "type"), Text(item, "message")});
    return out;
  }
  bool HasEvent(const std::string& reason) const {
    for (const Event& event : Events())
      if (event.reason == reason) return true;
    return false;
  }
  std::optional<Event> FindEvent(const std::string& reason) const {
    for (const Event& event : Events())
      if (event.reason == reason) return event;
    return std::nullopt;
  }

  // Enforce on the stable's low traffic: held at weight 0.
  void HoldAtWeightZero() {
    ASSERT_NO_FATAL_FAILURE(Serve(kLowRps, kLowErrors));
    ASSERT_NO_FATAL_FAILURE(Start("enforce"));
    ASSERT_TRUE(
        WaitFor([&] { return Text(Status(), "pauseReason") == "Preflight"; },
                absl::Seconds(120)))
        << Status().dump();
  }

  // The canary took its first weight and no other, not held, with
  // status.preflight `result` and its Event (Preflight<result>) of
  // `event_type`; the status then.
  json ExpectProceeded(const std::string& result,
                       const std::string& event_type) {
    EXPECT_TRUE(
        WaitFor([&] { return CanaryWeight() == 20; }, absl::Seconds(180)))
        << Status().dump();
    EXPECT_TRUE(WaitFor([&] { return PreflightResult() == result; },
                        absl::Seconds(120)))
        << Status().dump();
    const json status = Status();
    EXPECT_NE(Text(status, "pauseReason"), "Preflight") << status.dump();
    const std::string reason = "Preflight" + result;
    EXPECT_TRUE(WaitFor([&] { return HasEvent(reason); }))
        << "no " << reason << " Event";
    const std::optional<Event> event = FindEvent(reason);
    EXPECT_EQ(event ? event->type : "", event_type);
    EXPECT_EQ(recorder_->weights(), (std::vector<int>{0, 20}));
    return status;
  }

  TestNamespace ns_;
  int analyzer_port_ = FreePort();
  std::unique_ptr<IstioExporter> exporter_;
  std::unique_ptr<PrometheusProcess> prometheus_;
  std::unique_ptr<ChildProcess> analyzer_;
  std::unique_ptr<CanarydProcess> canaryd_;
  std::unique_ptr<v1::RolloutService::Stub> stub_;
  // Every canary weight the VirtualService shows from Start on.
  std::unique_ptr<WeightRecorder> recorder_;
};

constexpr char kTooShort[] = "the plan ends before a 2x regression could show";

TEST_F(PreflightRolloutTest, EnforceHoldsAShortPlanAtWeightZero) {
  ASSERT_NO_FATAL_FAILURE(HoldAtWeightZero());
  json status = Status();
  EXPECT_EQ(Text(status, "phase"), "Paused");
  EXPECT_EQ(status.value("canaryWeight", -1), 0);
  EXPECT_EQ(status.value("currentStepIndex", -1), 0);
  EXPECT_NE(Text(status, "message")
                .find("held by pre-flight (spec.preflight: enforce)"),
            std::string::npos)
      << status.dump();
  EXPECT_NE(Text(status, "message").find(kTooShort), std::string::npos)
      << status.dump();
  const json preflight = PreflightOf(status);
  ASSERT_FALSE(preflight.empty()) << status.dump();
  EXPECT_EQ(Text(preflight, "result"), "Warning");
  EXPECT_EQ(preflight.value("planLongEnough", true), false);
  EXPECT_EQ(preflight.value("regressionSeconds", 0), -1);
  EXPECT_NE(Text(preflight, "message").find(kTooShort), std::string::npos)
      << preflight.dump();
  EXPECT_EQ(preflight.value("generation", -1),
            status.value("observedGeneration", -2));

  // The hold is re-decided on each refreshed pre-flight (every 30 s): it
  // stands across one, and the canary is never given weight meanwhile.
  const std::string first_at = Text(preflight, "computedAt");
  ASSERT_TRUE(WaitFor(
      [&] { return Text(PreflightOf(Status()), "computedAt") != first_at; },
      absl::Seconds(120)))
      << "no refreshed pre-flight: " << Status().dump();
  status = Status();
  EXPECT_EQ(Text(status, "pauseReason"), "Preflight") << status.dump();
  EXPECT_EQ(Text(PreflightOf(status), "result"), "Warning");
  EXPECT_EQ(CanaryWeight(), 0);
  EXPECT_EQ(recorder_->weights(), std::vector<int>{0});

  ASSERT_TRUE(WaitFor([&] { return HasEvent("PreflightWarning"); }))
      << "no PreflightWarning Event";
  const Event warning = *FindEvent("PreflightWarning");
  EXPECT_EQ(warning.type, "Warning");
  EXPECT_NE(warning.message.find(kTooShort), std::string::npos)
      << warning.message;
  // Once per verdict, not once per refresh of the same one.
  int warnings = 0;
  for (const Event& event : Events())
    warnings += event.reason == "PreflightWarning";
  EXPECT_EQ(warnings, 1);
  EXPECT_FALSE(HasEvent("PreflightPassed"));
  EXPECT_FALSE(HasEvent("PreflightUnknown"));

  const CommandResult shown =
      Canaryctl(canaryd_->address(), {"get", kName, "-n", ns_.name()});
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_NE(shown.output.find("Pre-flight:    Warning: 2x regression shows in"),
            std::string::npos)
      << shown.output;
  EXPECT_NE(shown.output.find(kTooShort), std::string::npos) << shown.output;
}

// docs/BACKTEST.md: resume is refused and says so; promote proceeds anyway,
// for the whole generation.
TEST_F(PreflightRolloutTest, APromotePastTheHoldStandsForTheGeneration) {
  ASSERT_NO_FATAL_FAILURE(HoldAtWeightZero());

  v1::RolloutRef ref;
  ref.set_namespace_(ns_.name());
  ref.set_name(kName);
  {
    grpc::ClientContext context;
    v1::Rollout out;
    const grpc::Status resumed = stub_->Resume(&context, ref, &out);
    EXPECT_EQ(resumed.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_NE(resumed.error_message().find("held by the pre-flight"),
              std::string::npos)
        << resumed.error_message();
  }
  EXPECT_EQ(CanaryWeight(), 0);

  const CommandResult promoted =
      Canaryctl(canaryd_->address(), {"promote", kName, "-n", ns_.name()});
  ASSERT_EQ(promoted.exit_code, 0) << promoted.output;
  ASSERT_TRUE(WaitFor([&] { return CanaryWeight() == 20; })) << Status().dump();
  // The pre-flight at the next step is still too short, and still marked
  // overridden: it holds nothing in this generation.
  ASSERT_TRUE(WaitFor([&] {
    return PreflightOf(Status()).value("stepIndex", 0) >= 1;
  })) << Status().dump();
  const json status = Status();
  EXPECT_EQ(Text(PreflightOf(status), "result"), "Warning");
  EXPECT_EQ(PreflightOf(status).value("overridden", false), true)
      << status.dump();
  EXPECT_NE(Text(status, "pauseReason"), "Preflight") << status.dump();
  EXPECT_EQ(recorder_->weights(), (std::vector<int>{0, 20}));
}

// docs/BACKTEST.md: the hold lifts by itself when a later pre-flight passes
// (more stable traffic): the 30 s refresh sees the new rate.
TEST_F(PreflightRolloutTest, TheHoldLiftsWhenTheStableTrafficGrows) {
  ASSERT_NO_FATAL_FAILURE(HoldAtWeightZero());
  EXPECT_EQ(CanaryWeight(), 0);
  exporter_->SetRequestsPerSecond(0, kHighRps);
  const json status = ExpectProceeded("Passed", "Normal");
  EXPECT_EQ(PreflightOf(status).value("overridden", false), false);
  EXPECT_TRUE(HasEvent("PreflightWarning")) << "the hold's verdict came first";
}

TEST_F(PreflightRolloutTest, WarnReportsAShortPlanAndProceeds) {
  ASSERT_NO_FATAL_FAILURE(Serve(kLowRps, kLowErrors));
  ASSERT_NO_FATAL_FAILURE(Start("warn"));
  const json status = ExpectProceeded("Warning", "Warning");
  EXPECT_EQ(PreflightOf(status).value("planLongEnough", true), false);
  EXPECT_NE(Text(PreflightOf(status), "message").find(kTooShort),
            std::string::npos)
      << status.dump();
  EXPECT_FALSE(HasEvent("PreflightPassed"));
}

TEST_F(PreflightRolloutTest, EnforcePassesAnAmplePlanAndProceeds) {
  ASSERT_NO_FATAL_FAILURE(Serve(kHighRps, kHighErrors));
  ASSERT_NO_FATAL_FAILURE(Start("enforce"));
  const json preflight = PreflightOf(ExpectProceeded("Passed", "Normal"));
  EXPECT_EQ(preflight.value("planLongEnough", false), true);
  const int64_t regression = preflight.value("regressionSeconds", int64_t{-1});
  EXPECT_GT(regression, 0);
  EXPECT_LE(regression, kPauseSeconds);
  EXPECT_FALSE(HasEvent("PreflightWarning"));
  // Every verdict was known: an Unknown one would have let the canary on
  // without one.
  EXPECT_FALSE(HasEvent("PreflightUnknown"));
}

}  // namespace
}  // namespace smartcanary::testing
