// Argo Rollouts' own controller (built from its Go module by
// scripts/build-fixtures.sh) runs AnalysisRuns whose `web` provider calls
// the analyzer's HTTP API, on the real API server, with Debian's Prometheus
// scraping Istio-shaped counters: a good canary's run ends Successful, a bad
// one's Failed, and each measurement's value carries the evidence. The
// template is docs/interop/argo-analysistemplate.yaml, as docs/INTEROP.md
// shows it.
#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/istio_exporter.h"

namespace smartcanary::testing {
namespace {

using json = nlohmann::json;

std::string FileText(const std::string& path) {
  return smartcanary::ReadFile(path).value_or("");
}

std::string Env(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

// build-fixtures.sh puts rollouts-controller beside kubectl, and Argo's CRDs
// in the cache above it.
std::string FixtureBin() {
  const std::string kubectl = Env("KUBECTL", "");
  return kubectl.substr(0, kubectl.rfind('/'));
}

std::string Kubectl(const std::string& args) {
  return absl::StrCat(Env("KUBECTL", "kubectl"),
                      " --kubeconfig=", Env("KUBECONFIG", ""), " ", args);
}

class ArgoInteropTest : public ::testing::Test {
 protected:
  static constexpr char kToken[] = "argo-web-provider-token";

  void SetUp() override {
    ASSERT_FALSE(Env("KUBECTL", "").empty()) << "KUBECTL is set by "
                                                "scripts/test.sh";
    const std::string controller =
        Env("ARGO_ROLLOUTS_CONTROLLER", FixtureBin() + "/rollouts-controller");
    const std::string crds =
        Env("ARGO_ROLLOUTS_CRDS", FixtureBin() + "/../argo-rollouts-crds.yaml");
    ASSERT_FALSE(FileText(crds).empty())
        << crds << ": run scripts/build-fixtures.sh";
    // Argo's CRDs: server-side, as they are too large for the annotation
    // client-side apply keeps.
    CommandResult applied =
        RunShell(Kubectl(absl::StrCat("apply --server-side -f ", crds)));
    ASSERT_EQ(applied.exit_code, 0) << applied.output;
    applied = RunShell(Kubectl(
        "wait --for condition=established --timeout=60s "
        "crd/analysisruns.argoproj.io crd/analysistemplates.argoproj.io"));
    ASSERT_EQ(applied.exit_code, 0) << applied.output;

    // Baseline v1 and two canaries: v2 as good as the baseline, v3 failing
    // a fifth of its requests.
    auto arm = [](const std::string& revision, double errors) {
      return IstioArm{{{"destination_service_name", "reviews"},
                       {"destination_canonical_revision", revision}},
                      50,
                      errors};
    };
    exporter_ = std::make_unique<IstioExporter>(std::vector<IstioArm>{
        arm("v1", 0.01), arm("v2", 0.01), arm("v3", 0.2)});
    prometheus_ = std::make_unique<PrometheusProcess>(
        std::vector<std::string>{exporter_->target()});
    ASSERT_TRUE(prometheus_->WaitForData(
        "istio_requests_total{destination_canonical_revision=\"v3\"}"));

    const std::string token_file =
        absl::StrCat(Env("TEST_TMPDIR", "/tmp"), "/http-token");
    std::ofstream(token_file) << kToken << "\n";
    http_port_ = FreePort();
    analyzer_ = std::make_unique<ChildProcess>(
        "canary-analyzer",
        LocalAnalyzerArgv(FreePort(),
                          {absl::StrCat("--http-listen=127.0.0.1:", http_port_),
                           "--http-token-file=" + token_file}));
    ASSERT_TRUE(WaitFor([&] {
      return HttpGet(absl::StrCat("http://127.0.0.1:", http_port_,
                                  "/healthz")) == "ok\n";
    }));

    // The template as documented, and the token in a Secret as a Rollout
    // would pass it.
    const std::string template_file =
        RunfilePath("docs/interop/argo-analysistemplate.yaml");
    const std::string template_yaml = FileText(template_file);
    ASSERT_FALSE(template_yaml.empty());
    EXPECT_NE(FileText(RunfilePath("docs/INTEROP.md")).find(template_yaml),
              std::string::npos)
        << "docs/INTEROP.md must quote docs/interop/argo-analysistemplate.yaml";
    applied = RunShell(
        Kubectl(absl::StrCat("apply -n ", ns_.name(), " -f ", template_file)));
    ASSERT_EQ(applied.exit_code, 0) << applied.output;
    applied = RunShell(Kubectl(
        absl::StrCat("create secret generic -n ", ns_.name(),
                     " smartcanary-http-token --from-literal=token=", kToken)));
    ASSERT_EQ(applied.exit_code, 0) << applied.output;

    // Until Prometheus holds enough of the bad canary's requests for the
    // judge to prove it worse: a condition, so a slow machine only waits.
    ASSERT_TRUE(
        WaitFor([&] { return Verdict("v3") == "Fail"; }, absl::Seconds(180)));
    controller_ = std::make_unique<ChildProcess>(
        "rollouts-controller",
        std::vector<std::string>{
            controller, "--kubeconfig=" + Env("KUBECONFIG", ""), "--namespaced",
            "--namespace=" + ns_.name(), "--controllers=analysis",
            "--leader-elect=false", absl::StrCat("--metricsPort=", FreePort()),
            absl::StrCat("--healthzPort=", FreePort())});
  }

  // The verdict the analyzer gives now for `canary` against v1, asked
  // directly with the template's settings.
  std::string Verdict(const std::string& canary) const {
    const json body = {
        {"window", "10m"},
        {"comparative",
         {{"prometheus", {{"address", prometheus_->url()}}},
          {"istio",
           {{"service", "reviews"},
            {"event", "http-5xx"},
            {"canary", {{"destination_canonical_revision", canary}}},
            {"baseline", {{"destination_canonical_revision", "v1"}}}}},
          {"alpha", 0.01},
          {"margin", 0.25},
          {"resolution", "5s"}}}};
    const HttpAnswer response = HttpPost(
        absl::StrCat("http://127.0.0.1:", http_port_, "/v1/judge"), body.dump(),
        {"Content-Type: application/json",
         absl::StrCat("Authorization: Bearer ", kToken)});
    if (response.status != 200) return "";
    const json answer = json::parse(response.body, nullptr, false);
    return answer.is_object() ? answer.value("verdict", "") : "";
  }

  // An AnalysisRun from the template, as the Rollout controller makes one
  // for an analysis step: the template's metrics and args, the Rollout's
  // arg values (the token from its Secret).
  std::string CreateRun(const std::string& name, const std::string& canary) {
    auto tmpl = Kube().Get(
        absl::StrCat("/apis/argoproj.io/v1alpha1/namespaces/", ns_.name(),
                     "/analysistemplates/smart-canary-judge"));
    EXPECT_TRUE(tmpl.ok()) << tmpl.status();
    if (!tmpl.ok()) return "";
    std::map<std::string, json> given = {
        {"analyzer-url",
         {{"value", absl::StrCat("http://127.0.0.1:", http_port_)}}},
        {"analyzer-token",
         {{"valueFrom",
           {{"secretKeyRef",
             {{"name", "smartcanary-http-token"}, {"key", "token"}}}}}}},
        {"prometheus", {{"value", prometheus_->url()}}},
        {"service", {{"value", "reviews"}}},
        {"canary-revision", {{"value", canary}}},
        {"baseline-revision", {{"value", "v1"}}},
    };
    json args = json::array();
    for (const json& arg : (*tmpl)["spec"]["args"]) {
      json out = arg;
      auto value = given.find(arg["name"].get<std::string>());
      if (value != given.end()) {
        out.erase("value");
        out.update(value->second);
      }
      args.push_back(out);
    }
    json run = {
        {"apiVersion", "argoproj.io/v1alpha1"},
        {"kind", "AnalysisRun"},
        {"metadata", {{"name", name}, {"namespace", ns_.name()}}},
        {"spec", {{"args", args}, {"metrics", (*tmpl)["spec"]["metrics"]}}}};
    auto created =
        Kube().Post(absl::StrCat("/apis/argoproj.io/v1alpha1/namespaces/",
                                 ns_.name(), "/analysisruns"),
                    run);
    EXPECT_TRUE(created.ok()) << created.status();
    return name;
  }

  json Run(const std::string& name) {
    auto run = Kube().Get(absl::StrCat("/apis/argoproj.io/v1alpha1/namespaces/",
                                       ns_.name(), "/analysisruns/", name));
    return run.ok() ? *run : json();
  }

  std::string Phase(const std::string& name) {
    const json run = Run(name);
    return run.contains("status") && run["status"].contains("phase")
               ? run["status"]["phase"].get<std::string>()
               : "";
  }

  TestNamespace ns_;
  std::unique_ptr<IstioExporter> exporter_;
  std::unique_ptr<PrometheusProcess> prometheus_;
  std::unique_ptr<ChildProcess> analyzer_;
  std::unique_ptr<ChildProcess> controller_;
  int http_port_ = 0;
};

// The last measurement's value: the analyzer's whole answer (jsonPath {$}).
json LastValue(const json& run) {
  const json& measurements = run["status"]["metricResults"][0]["measurements"];
  return json::parse(measurements.back()["value"].get<std::string>());
}

TEST_F(ArgoInteropTest, GoodCanarySucceedsAndBadCanaryFailsWithEvidence) {
  const std::string good = CreateRun("good", "v2");
  const std::string bad = CreateRun("bad", "v3");
  auto done = [&](const std::string& name) {
    const std::string phase = Phase(name);
    return phase == "Successful" || phase == "Failed" || phase == "Error" ||
           phase == "Inconclusive";
  };
  ASSERT_TRUE(
      WaitFor([&] { return done(good) && done(bad); }, absl::Seconds(240)))
      << Run(good).dump() << "\n"
      << Run(bad).dump();

  const json good_run = Run(good);
  EXPECT_EQ(Phase(good), "Successful") << good_run.dump();
  const json passed = LastValue(good_run);
  EXPECT_EQ(passed["verdict"], "Pass");
  EXPECT_GT(passed["evidence"]["canary"]["requests"].get<double>(), 0);
  EXPECT_LT(passed["evidence"]["eValueWorse"].get<double>(),
            passed["evidence"]["thresholdWorse"].get<double>());

  const json bad_run = Run(bad);
  EXPECT_EQ(Phase(bad), "Failed") << bad_run.dump();
  const json failed = LastValue(bad_run);
  EXPECT_EQ(failed["verdict"], "Fail");
  EXPECT_TRUE(failed["evidence"]["worse"].get<bool>());
  EXPECT_GT(failed["evidence"]["ratioInterval"][0].get<double>(), 1.25);
  EXPECT_GE(failed["evidence"]["eValueWorse"].get<double>(),
            failed["evidence"]["thresholdWorse"].get<double>());
}

}  // namespace
}  // namespace smartcanary::testing
