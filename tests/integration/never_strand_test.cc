// Analysis that never strands a canary, end to end on the real control
// plane with Debian's Prometheus (scraping every second, and one scraping
// every 15 s as clusters do): the mesh stand-in sends real gRPC traffic split
// by the VirtualService and canaryd judges it through canary-analyzer. Each
// rollout starts the moment the canary takes traffic, before Prometheus has
// any of its series: the case where no data used to hold a bad canary for
// good.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "cli/manifest.h"
#include "controller/kube/resources.h"
#include "controller/rollout_proto.h"
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
)";

constexpr char kRequests[] =
    R"(istio_requests_total{reporter="destination",destination_canonical_revision="{{args.version}}")";

// A template with one metric named `name`: `query` is RATE_OK (the success
// ratio), ERRORS (the error ratio) or ERRORS_OR_ZERO (the same with the
// numerator guarded by `or vector(0)`) over rate()s of `window`; `extra` is
// more of the metric's fields, `scrape` its Prometheus' scrapeInterval.
std::string Template(const std::string& name, const std::string& query,
                     const std::string& window, const std::string& extra,
                     const std::string& scrape = "") {
  const std::string ok = absl::StrCat(
      "sum(rate(", kRequests, R"(,grpc_response_status="0"}[)", window, "]))");
  const std::string errors = absl::StrCat(
      "sum(rate(", kRequests, R"(,grpc_response_status!="0"}[)", window, "]))");
  const std::string all =
      absl::StrCat("sum(rate(", kRequests, "}[", window, "]))");
  const std::string text =
      query == "RATE_OK"  ? absl::StrCat(ok, " / ", all)
      : query == "ERRORS" ? absl::StrCat(errors, " / ", all)
                          : absl::StrCat("(", errors, " or vector(0)) / ", all);
  return absl::StrCat(
      R"(apiVersion: smartcanary.dev/v1alpha1
kind: CanaryAnalysisTemplate
metadata: {name: )",
      name, R"(}
spec:
  args:
  - name: prometheus
  - name: version
  metrics:
  - name: )",
      name, "\n", extra, R"(    provider:
      prometheus:
        address: "{{args.prometheus}}"
)",
      scrape.empty() ? ""
                     : absl::StrCat("        scrapeInterval: ", scrape, "\n"),
      "        query: '", absl::StrReplaceAll(text, {{"'", "''"}}), "'\n");
}

// The issue's template, in Argo's shape: no initialDelay, inconclusiveLimit
// left at 0, nothing about the scrape interval.
constexpr char kArgoShaped[] = R"(    interval: 5s
    failureLimit: 1
    successCondition: result[0] >= 0.97
)";
// An error ratio, used with the Prometheus scraping every second and
// scrapeInterval: 1s said, so its warm-up is the range + 1 s.
constexpr char kErrorRatio[] = R"(    interval: 2s
    successCondition: result[0] <= 0.01
)";

struct Backends {
  int v1 = FreePort(), v2 = FreePort(), v3 = FreePort();
  ChildProcess p1{"ns-rpc-v1",
                  {RunfilePath("examples/rpc-server/rpc-server"),
                   absl::StrCat("--listen=127.0.0.1:", v1), "--version=v1"}};
  ChildProcess p2{"ns-rpc-v2",
                  {RunfilePath("examples/rpc-server/rpc-server"),
                   absl::StrCat("--listen=127.0.0.1:", v2), "--version=v2"}};
  ChildProcess p3{"ns-rpc-v3",
                  {RunfilePath("examples/rpc-server/rpc-server"),
                   absl::StrCat("--listen=127.0.0.1:", v3), "--version=v3",
                   "--error-fraction=0.12"}};
};

class NeverStrandTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { backends_ = new Backends(); }
  static void TearDownTestSuite() { delete backends_; }

  NeverStrandTest() {
    ns_.Apply(kMesh);
    // v4: healthy until a test stops it.
    v4_ = std::make_unique<ChildProcess>(
        "ns-rpc-v4-" + ns_.name(),
        std::vector<std::string>{RunfilePath("examples/rpc-server/rpc-server"),
                                 absl::StrCat("--listen=127.0.0.1:", v4_port_),
                                 "--version=v4"});
    mesh_ = std::make_unique<ChildProcess>(
        "ns-mesh-" + ns_.name(),
        std::vector<std::string>{
            RunfilePath("tests/fixtures/mesh_standin/mesh-standin"),
            absl::StrCat("--kubeconfig=", std::getenv("KUBECONFIG")),
            "--namespace=" + ns_.name(),
            absl::StrCat("--backends=v1=127.0.0.1:", backends_->v1,
                         ",v2=127.0.0.1:", backends_->v2, ",v3=127.0.0.1:",
                         backends_->v3, ",v4=127.0.0.1:", v4_port_),
            "--rps=50", absl::StrCat("--listen=127.0.0.1:", mesh_port_)});
    prometheus_ = std::make_unique<PrometheusProcess>(
        std::vector<std::string>{absl::StrCat("127.0.0.1:", mesh_port_)});
    EXPECT_TRUE(
        prometheus_->WaitForData("sum(irate(istio_requests_total[1m]))"));
    StartAnalyzer();
    canaryd_ = std::make_unique<CanarydProcess>(
        ns_.name(), std::vector<std::string>{
                        absl::StrCat("--analyzer=127.0.0.1:", analyzer_port_)});
    stub_ = canaryd_->Stub();
  }

  void StartAnalyzer() {
    analyzer_ = std::make_unique<ChildProcess>(
        "ns-analyzer-" + ns_.name(), LocalAnalyzerArgv(analyzer_port_));
  }

  // A CanaryRollout manifest: `steps` and the rest of the spec as YAML,
  // background analysis `template` from step 1 on `version`.
  std::string Manifest(const std::string& version, const std::string& tmpl,
                       const std::string& steps, const std::string& prometheus,
                       const std::string& extra = "",
                       const std::string& analysis_extra = "") {
    return absl::StrCat(R"(apiVersion: smartcanary.dev/v1alpha1
kind: CanaryRollout
metadata: {name: rpc-server, namespace: )",
                        ns_.name(), R"(}
spec:
  canaryLabels: {version: )",
                        version, R"(}
  trafficRouting:
    istio:
      virtualService: {name: rpc-server}
      destinationRule: {name: rpc-server, stableSubsetName: stable, canarySubsetName: canary}
)",
                        extra, R"(  analysis:
    startingStep: 1
)",
                        analysis_extra, R"(    templates: [{templateName: )",
                        tmpl, R"(}]
    args:
    - {name: prometheus, value: ")",
                        prometheus, R"("}
    - {name: version, value: )",
                        version, R"(}
  steps:
)",
                        steps);
  }

  v1::Rollout Start(const std::string& manifest) {
    auto parsed = cli::ParseManifest(manifest);
    EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << manifest;
    v1::StartRolloutRequest request;
    request.set_namespace_(ns_.name());
    request.set_name("rpc-server");
    if (parsed.ok()) *request.mutable_spec() = SpecToProto(parsed->spec);
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

  bool WaitForPhase(v1::Phase phase, const std::string& reason = "",
                    absl::Duration timeout = absl::Seconds(150)) {
    return WaitFor(
        [&] {
          const v1::Rollout r = Get();
          return r.phase() == phase &&
                 (reason.empty() || r.pause_reason() == reason);
        },
        timeout);
  }

  std::pair<int, int> Weights() {
    json route = (*Kube().Get(kube::kVirtualServices.Item(
        ns_.name(), "rpc-server")))["spec"]["http"][0]["route"];
    return {route[0].value("weight", -1), route[1].value("weight", -1)};
  }

  static const v1::MetricStatus& Background(const v1::Rollout& rollout) {
    for (const v1::AnalysisRunStatus& run : rollout.analysis_runs()) {
      if (run.name() == "background") return run.metrics(0);
    }
    static const v1::MetricStatus* none = new v1::MetricStatus();
    ADD_FAILURE() << "no background analysis in the status";
    return *none;
  }

  static bool Mentions(const v1::Rollout& rollout, const std::string& part) {
    for (const std::string& warning : rollout.warnings()) {
      if (warning.find(part) != std::string::npos) return true;
    }
    return false;
  }

  // The issue's 12% canary on `prometheus`, rolled back with nobody acting.
  void ExpectBadCanaryRolledBack(const std::string& tmpl,
                                 const std::string& prometheus) {
    const v1::Rollout started = Start(Manifest(
        "v3", tmpl, "  - setWeight: 20\n  - pause: {}\n  - setWeight: 100\n",
        prometheus));
    EXPECT_TRUE(Mentions(started, "inconclusiveLimit 0"))
        << "advice at submit, never a refusal";
    ASSERT_TRUE(WaitForPhase(v1::DEGRADED)) << Get().message();
    const v1::Rollout done = Get();
    EXPECT_NE(done.message().find("rolled back: background analysis"),
              std::string::npos)
        << done.message();
    EXPECT_NE(done.message().find("is false for result=[0."), std::string::npos)
        << done.message();
    EXPECT_EQ(Weights(), std::make_pair(100, 0));
    const v1::MetricStatus& metric = Background(done);
    EXPECT_EQ(metric.failed(), 2) << "failureLimit 1";
    EXPECT_EQ(metric.inconclusive(), 0)
        << "no data before the series existed counted toward no limit";
    EXPECT_GE(metric.pending(), 1)
        << "the first measurement came before Prometheus had the canary";
    EXPECT_EQ(done.pause_reason(), "");
  }

  static Backends* backends_;
  TestNamespace ns_;
  int mesh_port_ = FreePort(), analyzer_port_ = FreePort(),
      v4_port_ = FreePort();
  std::unique_ptr<ChildProcess> v4_, mesh_, analyzer_;
  std::unique_ptr<PrometheusProcess> prometheus_;
  std::unique_ptr<CanarydProcess> canaryd_;
  std::unique_ptr<v1::RolloutService::Stub> stub_;
};

Backends* NeverStrandTest::backends_ = nullptr;

TEST_F(NeverStrandTest, TwelvePercentCanaryIsRolledBackWithNobodyActing) {
  ns_.Apply(Template("argo-shaped", "RATE_OK", "10s", kArgoShaped));
  ExpectBadCanaryRolledBack("argo-shaped", prometheus_->url());
}

TEST_F(NeverStrandTest, AndOnAPrometheusScrapingEveryFifteenSeconds) {
  // A cluster's pace: the canary's series take up to two scrapes (30 s) to
  // show in rate() over a minute; the template does not say how often its
  // Prometheus scrapes, so the warm-up is 1m + the 30 s default.
  PrometheusProcess slow({absl::StrCat("127.0.0.1:", mesh_port_)},
                         absl::Seconds(15));
  ns_.Apply(Template("argo-shaped-1m", "RATE_OK", "1m", kArgoShaped));
  ExpectBadCanaryRolledBack("argo-shaped-1m", slow.url());
}

TEST_F(NeverStrandTest, HealthyCanaryWithAPlainErrorRatioIsWarnedAndHeld) {
  // Kept strict: no errors at all makes the numerator an empty vector, which
  // is no data, never a pass. The submit warns, the rollout is held (not
  // stranded: measuring on), and the suggested fix reaches Healthy.
  ns_.Apply(Template("error-ratio", "ERRORS", "10s",
                     absl::StrCat(kErrorRatio, "    initialDelay: 1s\n"),
                     "1s"));
  const std::string file =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/plain-", ns_.name(), ".yaml");
  std::ofstream(file) << Manifest(
      "v2", "error-ratio",
      "  - setWeight: 20\n  - pause: {duration: 20s}\n  - setWeight: 100\n",
      prometheus_->url());
  const CommandResult started =
      Canaryctl(canaryd_->address(), {"start", "-f", file, "-n", ns_.name()});
  ASSERT_EQ(started.exit_code, 0) << started.output;
  EXPECT_NE(started.output.find("Warning: spec.analysis: metric "
                                "\"error-ratio\": the query's numerator"),
            std::string::npos)
      << started.output;
  EXPECT_NE(started.output.find("or vector(0)"), std::string::npos);

  ASSERT_TRUE(WaitForPhase(v1::PAUSED, "Inconclusive")) << Get().message();
  EXPECT_EQ(Weights(), std::make_pair(80, 20)) << "traffic held";
  const int measured =
      Background(Get()).pending() + Background(Get()).inconclusive();
  ASSERT_TRUE(WaitFor([&] {
    return Background(Get()).inconclusive() + Background(Get()).pending() >
           measured + 1;
  })) << "held, and measuring on";
  EXPECT_NE(Get().phase(), v1::HEALTHY);
  EXPECT_TRUE(Mentions(Get(), "or vector(0)")) << "kept in the status";
  const CommandResult shown =
      Canaryctl(canaryd_->address(), {"get", "rpc-server", "-n", ns_.name()});
  EXPECT_NE(shown.output.find("held: analysis inconclusive, measuring on"),
            std::string::npos)
      << shown.output;
  EXPECT_NE(shown.output.find("no data"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("Warning:"), std::string::npos) << shown.output;

  // The fix the warning suggests: a new spec with the guarded numerator.
  ns_.Apply(Template("error-ratio-or-zero", "ERRORS_OR_ZERO", "10s",
                     absl::StrCat(kErrorRatio, "    inconclusiveLimit: 2\n"),
                     "1s"));
  const v1::Rollout fixed = Start(Manifest(
      "v2", "error-ratio-or-zero",
      "  - setWeight: 20\n  - pause: {duration: 15s}\n  - setWeight: 100\n",
      prometheus_->url()));
  EXPECT_FALSE(Mentions(fixed, "numerator")) << "nothing left to warn about";
  ASSERT_TRUE(WaitForPhase(v1::HEALTHY)) << Get().message();
  EXPECT_GE(Background(Get()).successful(), 1);
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
}

TEST_F(NeverStrandTest, HeldForInconclusiveThenFailingIsRolledBackWhileHeld) {
  ns_.Apply(Template("error-ratio", "ERRORS", "5s",
                     absl::StrCat(kErrorRatio, "    initialDelay: 1s\n"),
                     "1s"));
  Start(Manifest("v4", "error-ratio",
                 "  - setWeight: 20\n  - pause: {}\n  - setWeight: 100\n",
                 prometheus_->url()));
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, "Inconclusive")) << Get().message();
  EXPECT_EQ(Weights(), std::make_pair(80, 20));
  // The canary starts failing every request while the rollout is held.
  v4_->Kill9();
  ASSERT_TRUE(WaitForPhase(v1::DEGRADED)) << Get().message();
  const v1::Rollout done = Get();
  EXPECT_NE(done.message().find("rolled back: background analysis"),
            std::string::npos)
      << done.message();
  EXPECT_NE(done.message().find("is false for result=["), std::string::npos)
      << done.message();
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
  EXPECT_GE(Background(done).inconclusive(), 1) << "it was held first";
}

TEST_F(NeverStrandTest, ProgressDeadlineAbortsARolloutStuckOnInconclusive) {
  ns_.Apply(Template("error-ratio", "ERRORS", "5s",
                     absl::StrCat(kErrorRatio, "    initialDelay: 1s\n"),
                     "1s"));
  Start(Manifest(
      "v2", "error-ratio",
      "  - setWeight: 20\n  - pause: {}\n  - setWeight: 100\n",
      prometheus_->url(),
      "  progressDeadlineSeconds: 10\n  progressDeadlineAbort: true\n"));
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, "Inconclusive")) << Get().message();
  ASSERT_TRUE(WaitForPhase(v1::DEGRADED)) << Get().message();
  const v1::Rollout done = Get();
  EXPECT_NE(done.message().find("rolled back: progress deadline exceeded: no "
                                "progress for 10s"),
            std::string::npos)
      << done.message();
  ASSERT_EQ(done.conditions_size(), 1);
  EXPECT_EQ(done.conditions(0).type(), "Progressing");
  EXPECT_EQ(done.conditions(0).status(), "False");
  EXPECT_EQ(done.conditions(0).reason(), "ProgressDeadlineExceeded");
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
}

TEST_F(NeverStrandTest, OnErrorPauseHoldsThroughAnAnalyzerOutageAndCompletes) {
  ns_.Apply(Template("error-ratio-or-zero", "ERRORS_OR_ZERO", "5s",
                     absl::StrCat(kErrorRatio,
                                  "    inconclusiveLimit: 3\n"
                                  "    consecutiveErrorLimit: 1\n"),
                     "1s"));
  Start(Manifest("v2", "error-ratio-or-zero",
                 "  - setWeight: 20\n  - pause: {duration: 15s}\n"
                 "  - setWeight: 50\n  - pause: {duration: 5s}\n"
                 "  - setWeight: 100\n",
                 prometheus_->url(), "", "    onError: pause\n"));
  ASSERT_TRUE(WaitFor([&] {
    const v1::Rollout r = Get();
    return r.analysis_runs_size() > 0 && Background(r).successful() >= 1;
  })) << Get().message();
  ASSERT_EQ(Get().current_step_index(), 1) << "still in the 15 s pause";
  analyzer_->Kill9();
  ASSERT_TRUE(WaitForPhase(v1::PAUSED, "Outage")) << Get().message();
  const v1::Rollout held = Get();
  EXPECT_EQ(held.current_step_index(), 1);
  EXPECT_EQ(Weights(), std::make_pair(80, 20)) << "traffic held";
  EXPECT_NE(held.message().find("resumes by itself"), std::string::npos)
      << held.message();
  // Measuring on through the outage, and held past the pause step's end:
  // without the hold the rollout would have gone on to 50%.
  const absl::Time pause_ends =
      absl::FromUnixSeconds(held.pause_started_at().seconds()) +
      absl::Seconds(15);
  const int errors = Background(held).error();
  ASSERT_TRUE(WaitFor(
      [&] {
        return Background(Get()).error() >= errors + 2 &&
               absl::Now() > pause_ends + absl::Seconds(3);
      },
      absl::Seconds(60)))
      << Get().message();
  EXPECT_EQ(Get().pause_reason(), "Outage");
  EXPECT_EQ(Get().current_step_index(), 1);
  EXPECT_EQ(Weights(), std::make_pair(80, 20));
  StartAnalyzer();
  ASSERT_TRUE(WaitForPhase(v1::HEALTHY)) << Get().message();
  EXPECT_EQ(Weights(), std::make_pair(100, 0));
}

}  // namespace
}  // namespace smartcanary::testing
