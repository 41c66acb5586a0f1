#include "cli/manifest.h"

#include <gtest/gtest.h>

#include "cli/args.h"
#include "common/flag_names.h"

namespace smartcanary::cli {
namespace {

constexpr char kArticle[] = R"(apiVersion: smartcanary.dev/v1alpha1
kind: CanaryRollout
metadata:
  name: rpc-server
  namespace: shop
spec:
  canaryLabels: {version: "2"}
  trafficRouting:
    istio:
      virtualService: {name: rpc-server, routes: [primary]}
      destinationRule: {name: rpc-server, stableSubsetName: stable, canarySubsetName: canary}
  steps:
  - setWeight: 20
  - pause: {}
  - setWeight: 50
  - pause: {duration: 30s}
  - setWeight: 100
)";

TEST(ManifestTest, ReadsTheArticlePlan) {
  auto manifest = ParseManifest(kArticle);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(manifest->name, "rpc-server");
  EXPECT_EQ(manifest->namespace_name, "shop");
  EXPECT_EQ(manifest->spec.steps.size(), 5u);
  // Quoted "2" stays a string label value.
  EXPECT_EQ(manifest->spec.canary_labels.at("version"), "2");
}

TEST(ManifestTest, YamlScalarsAreTypedLikeKubernetes) {
  auto doc = YamlToJson("a: 20\nb: '20'\nc: true\nd: ~\ne: 1.5\nf: 30s\n");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["a"], 20);
  EXPECT_EQ((*doc)["b"], "20");
  EXPECT_EQ((*doc)["c"], true);
  EXPECT_TRUE((*doc)["d"].is_null());
  EXPECT_EQ((*doc)["e"], 1.5);
  EXPECT_EQ((*doc)["f"], "30s");
}

TEST(ManifestTest, InvalidInputNamesTheField) {
  std::string weight = kArticle;
  weight.replace(weight.find("setWeight: 50"), 13, "setWeight: 120");
  EXPECT_EQ(ParseManifest(weight).status().message(),
            "spec.steps[2].setWeight: must be between 0 and 100, got 120");

  std::string unknown = kArticle;
  unknown.replace(unknown.find("  steps:"), 8, "  stpes:");
  EXPECT_NE(ParseManifest(unknown).status().message().find(
                "spec.stpes: unknown field"),
            absl::string_view::npos);

  EXPECT_NE(
      ParseManifest("apiVersion: [").status().message().find("not valid YAML"),
      absl::string_view::npos);
  EXPECT_EQ(ParseManifest("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\n")
                .status()
                .message(),
            "apiVersion: must be smartcanary.dev/v1alpha1, got "
            "\"argoproj.io/v1alpha1\"");
  std::string nameless = kArticle;
  nameless.replace(nameless.find("  name: rpc-server"), 18, "  labels: {}");
  EXPECT_EQ(ParseManifest(nameless).status().message(),
            "metadata.name: is required");
  // Fields of the wrong type are errors, not exceptions out of canaryctl.
  EXPECT_EQ(ParseManifest("apiVersion: [1]\nkind: CanaryRollout\n")
                .status()
                .message(),
            "apiVersion: must be a string, got array");
  std::string odd_kind = kArticle;
  odd_kind.replace(odd_kind.find("kind: CanaryRollout"), 19, "kind: {a: 1}");
  EXPECT_EQ(ParseManifest(odd_kind).status().message(),
            "kind: must be a string, got object");
  std::string odd_namespace = kArticle;
  odd_namespace.replace(odd_namespace.find("namespace: shop"), 15,
                        "namespace: [a]");
  EXPECT_EQ(ParseManifest(odd_namespace).status().message(),
            "metadata.namespace: must be a string, got array");
}

TEST(ArgsTest, KubectlStyleFlagsAnywhere) {
  auto args = ParseArgs(
      {"get", "-n", "shop", "rpc", "-o=json", "--server", "h:1"}, "d:9");
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->command, "get");
  EXPECT_EQ(args->positional, std::vector<std::string>{"rpc"});
  EXPECT_EQ(args->namespace_name, "shop");
  EXPECT_EQ(args->output, "json");
  EXPECT_EQ(args->server, "h:1");
  auto status = ParseArgs({"status", "rpc", "--timeout", "90s"}, "d:9");
  EXPECT_EQ(status->timeout, absl::Seconds(90));
  EXPECT_EQ(status->server, "d:9");
}

TEST(ArgsTest, BadFlagsAreNamed) {
  EXPECT_EQ(ParseArgs({"get", "--bogus"}, "").status().message(),
            "unknown flag --bogus");
  EXPECT_EQ(ParseArgs({"get", "-o", "yaml"}, "").status().message(),
            "-o: unsupported output \"yaml\" (supported: json)");
  EXPECT_NE(ParseArgs({"status", "x", "--timeout", "soon"}, "")
                .status()
                .message()
                .find("--timeout"),
            absl::string_view::npos);
  EXPECT_EQ(ParseArgs({"get", "-n"}, "").status().message(),
            "flag -n needs a value");
}

TEST(FlagNamesTest, DashedLongFlagsBecomeAbslNames) {
  std::vector<std::string> in = {
      "canaryd", "--grpc-listen=:1", "--http-listen", "a-b:2",
      "--",      "--not-a-flag"};
  std::vector<char*> argv;
  for (auto& s : in) argv.push_back(s.data());
  auto out = DashedFlagsToAbsl(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(out, (std::vector<std::string>{"canaryd", "--grpc_listen=:1",
                                           "--http_listen", "a-b:2", "--",
                                           "--not-a-flag"}));
}

}  // namespace
}  // namespace smartcanary::cli
