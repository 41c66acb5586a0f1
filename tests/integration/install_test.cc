// The install bundles as a cluster administrator applies them, judged by the
// real API server's admission and RBAC evaluation (`kubectl auth can-i`):
// the cluster-wide install, the host-level routing component, and the
// namespaced variant that must not reach another namespace.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::testing {
namespace {

std::string Kubectl() {
  const char* kubectl = std::getenv("KUBECTL");
  return kubectl != nullptr ? kubectl : "kubectl";
}

// kustomize does not follow the runfiles tree's symlinks: work on a copy.
std::string CopyOfManifests(const std::string& name) {
  const std::string copy = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  const CommandResult copied = RunShell(
      absl::StrCat("rm -rf ", copy, " && mkdir -p ", copy, " && cp -rL ",
                   RunfilePath("manifests"), " ", copy, "/manifests"));
  EXPECT_EQ(copied.exit_code, 0) << copied.output;
  return copy;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Whether the API server lets `user` do `verb resource` in `ns` (empty:
// cluster-wide).
bool Can(const std::string& user, const std::string& verb,
         const std::string& resource, const std::string& ns) {
  const CommandResult result = RunShell(absl::StrCat(
      Kubectl(), " auth can-i ", verb, " ", resource, " --as=", user,
      ns.empty() ? " --all-namespaces" : " -n " + ns));
  return result.exit_code == 0;
}

CommandResult Apply(const std::string& dir) {
  return RunShell(absl::StrCat(Kubectl(), " apply -k ", dir));
}

constexpr char kClusterCanaryd[] =
    "system:serviceaccount:smartcanary-system:canaryd";

TEST(InstallTest, ClusterInstallIsAdmittedWithLeastPrivilege) {
  const std::string copy = CopyOfManifests("cluster");
  const CommandResult applied = Apply(copy + "/manifests");
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  EXPECT_NE(
      applied.output.find("networkpolicy.networking.k8s.io/canary-analyzer"),
      std::string::npos)
      << applied.output;
  EXPECT_TRUE(
      Kube()
          .Get(
              "/apis/apps/v1/namespaces/smartcanary-system/deployments/canaryd")
          .ok());

  TestNamespace team;
  EXPECT_TRUE(Can(kClusterCanaryd, "patch",
                  "virtualservices.networking.istio.io", team.name()));
  EXPECT_TRUE(Can(kClusterCanaryd, "create",
                  "subjectaccessreviews.authorization.k8s.io", ""));
  // Host-level routing's right to move Service selectors is not in the
  // base install.
  EXPECT_FALSE(Can(kClusterCanaryd, "patch", "services", team.name()));
  EXPECT_FALSE(Can(kClusterCanaryd, "delete",
                   "virtualservices.networking.istio.io", team.name()));
  // Templates feed the watch cache.
  EXPECT_TRUE(Can(kClusterCanaryd, "watch",
                  "canaryanalysistemplates.smartcanary.dev", team.name()));
  EXPECT_TRUE(Can(kClusterCanaryd, "list",
                  "clustercanaryanalysistemplates.smartcanary.dev", ""));
  // Events about rollouts: written, never deleted.
  EXPECT_TRUE(Can(kClusterCanaryd, "create", "events", team.name()));
  EXPECT_FALSE(Can(kClusterCanaryd, "delete", "events", team.name()));
}

TEST(InstallTest, HostLevelRoutingComponentGrantsServicePatches) {
  const std::string copy = CopyOfManifests("host-level");
  WriteFile(copy + "/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\n"
            "kind: Kustomization\n"
            "resources: [manifests]\n"
            "components: [manifests/components/host-level-routing]\n");
  const CommandResult applied = Apply(copy);
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  TestNamespace team;
  EXPECT_TRUE(Can(kClusterCanaryd, "patch", "services", team.name()));
  EXPECT_FALSE(Can(kClusterCanaryd, "delete", "services", team.name()));
  RunShell(absl::StrCat(Kubectl(), " delete -f ", copy,
                        "/manifests/components/host-level-routing/rbac.yaml"));
}

TEST(InstallTest, AnalyzerHttpApiComponentOpensItsPortBehindAToken) {
  const std::string copy = CopyOfManifests("analyzer-http-api");
  WriteFile(copy + "/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\n"
            "kind: Kustomization\n"
            "resources: [manifests]\n"
            "components: [manifests/components/analyzer-http-api]\n");
  const CommandResult rendered =
      RunShell(absl::StrCat(Kubectl(), " kustomize ", copy));
  ASSERT_EQ(rendered.exit_code, 0) << rendered.output;
  for (const char* wanted :
       {"--http-listen=0.0.0.0:9092",
        "--http-token-file=/etc/canary-analyzer/http-token/token",
        "secretName: canary-analyzer-http-token", "containerPort: 9092",
        "smartcanary.dev/analyzer-client", "--metrics-listen=0.0.0.0:9090",
        "--grpc-listen=0.0.0.0:9091"}) {
    EXPECT_NE(rendered.output.find(wanted), std::string::npos) << wanted;
  }
  // The real API server admits the patched objects.
  const CommandResult admitted =
      RunShell(absl::StrCat(Kubectl(), " apply --dry-run=server -k ", copy));
  EXPECT_EQ(admitted.exit_code, 0) << admitted.output;
}

TEST(InstallTest, NamespacedInstallCannotReachAnotherNamespace) {
  TestNamespace team, other;
  const std::string copy = CopyOfManifests("namespaced");
  const std::string overlay = copy + "/manifests/namespaced";
  const CommandResult edited =
      RunShell(absl::StrCat("sed -i 's/^namespace: .*/namespace: ", team.name(),
                            "/' ", overlay, "/kustomization.yaml"));
  ASSERT_EQ(edited.exit_code, 0) << edited.output;
  const CommandResult applied = Apply(overlay);
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  // Nothing of the namespaced install lands in smartcanary-system.
  EXPECT_EQ(applied.output.find("namespace/smartcanary-system"),
            std::string::npos)
      << applied.output;

  const std::string canaryd =
      absl::StrCat("system:serviceaccount:", team.name(), ":canaryd");
  EXPECT_TRUE(Can(canaryd, "patch", "virtualservices.networking.istio.io",
                  team.name()));
  EXPECT_TRUE(
      Can(canaryd, "watch", "canaryrollouts.smartcanary.dev", team.name()));
  EXPECT_FALSE(Can(canaryd, "patch", "virtualservices.networking.istio.io",
                   other.name()));
  EXPECT_FALSE(
      Can(canaryd, "get", "canaryrollouts.smartcanary.dev", other.name()));
  EXPECT_FALSE(Can(canaryd, "list", "canaryrollouts.smartcanary.dev", ""));
  EXPECT_TRUE(Can(canaryd, "watch", "canaryanalysistemplates.smartcanary.dev",
                  team.name()));
  EXPECT_TRUE(Can(canaryd, "watch",
                  "clustercanaryanalysistemplates.smartcanary.dev", ""));
  // secretKeyRef credentials: its own namespace's Secrets only.
  EXPECT_TRUE(Can(canaryd, "get", "secrets", team.name()));
  EXPECT_FALSE(Can(canaryd, "get", "secrets", other.name()));
  EXPECT_TRUE(Can(canaryd, "create", "events", team.name()));
  EXPECT_FALSE(Can(canaryd, "create", "events", other.name()));
  EXPECT_FALSE(Can(canaryd, "patch", "services", team.name()));
  EXPECT_TRUE(Can(canaryd, "create", "tokenreviews.authentication.k8s.io", ""));

  // With the namespaced host-level component: Services in its namespace only.
  const CommandResult with_component = RunShell(absl::StrCat(
      "echo 'components: [../components/host-level-routing-namespaced]' >> ",
      overlay, "/kustomization.yaml && ", Kubectl(), " apply -k ", overlay));
  ASSERT_EQ(with_component.exit_code, 0) << with_component.output;
  EXPECT_TRUE(Can(canaryd, "patch", "services", team.name()));
  EXPECT_FALSE(Can(canaryd, "patch", "services", other.name()));

  // canaryd is told to serve its own namespace only.
  const CommandResult args = RunShell(
      absl::StrCat(Kubectl(), " get deployment canaryd -n ", team.name(),
                   " -o jsonpath='{.spec.template.spec.containers[0].args}'"));
  EXPECT_NE(args.output.find("--namespace=$(POD_NAMESPACE)"), std::string::npos)
      << args.output;
  RunShell(absl::StrCat(Kubectl(),
                        " delete clusterrolebinding "
                        "smartcanary-canaryd-namespaced.",
                        team.name()));
}

TEST(InstallTest, ImagesArePinnedToTheReleaseVersion) {
  std::ifstream in(RunfilePath("VERSION"));
  std::string version;
  ASSERT_TRUE(std::getline(in, version));
  ASSERT_FALSE(version.empty());
  const std::string copy = CopyOfManifests("images");
  const CommandResult rendered = RunShell(
      absl::StrCat(Kubectl(), " kustomize ", copy, "/manifests/namespaced"));
  ASSERT_EQ(rendered.exit_code, 0) << rendered.output;
  int images = 0;
  for (absl::string_view line : absl::StrSplit(rendered.output, '\n')) {
    line = absl::StripLeadingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, "image: ")) continue;
    ++images;
    EXPECT_TRUE(absl::EndsWith(line, ":" + version)) << line;
  }
  EXPECT_EQ(images, 2);
}

}  // namespace
}  // namespace smartcanary::testing
