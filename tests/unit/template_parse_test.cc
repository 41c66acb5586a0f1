// Hostile and mistaken rollouts and templates: every wrong type and every
// name that could leave its namespace is a field error naming the path,
// never an exception and never a request to another namespace's objects.
#include <gtest/gtest.h>

#include "controller/analysis/analysis_spec.h"
#include "controller/kube/resources.h"
#include "controller/rollout_proto.h"
#include "controller/rollout_spec.h"
#include "tests/unit/rollout_specs.h"

namespace smartcanary {
namespace {

using nlohmann::json;

json ValidSpec() { return ArticleSpecJson(); }

std::string SpecError(const json& spec) {
  auto parsed = ParseRolloutSpec(spec);
  EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << parsed.status();
  return std::string(parsed.status().message());
}

json ComparativeTemplate() {
  return json::parse(R"({"metrics": [{"name": "errors", "interval": "5s",
      "provider": {"comparative": {"prometheus": {"address": "http://p:9090"},
        "istio": {"service": "rpc-server",
                  "canary": {"destination_canonical_revision": "v2"},
                  "baseline": {"destination_canonical_revision": "v1"}}}}}]})");
}

std::string TemplateError(const json& spec) {
  auto parsed = ParseAnalysisTemplate(spec, "CanaryAnalysisTemplate t");
  EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << parsed.status();
  return std::string(parsed.status().message());
}

TEST(HostileNamesTest, NamesThatWouldLeaveTheNamespaceAreFieldErrors) {
  const std::string escape = "../../b/virtualservices/b-vs";
  json spec = ValidSpec();
  spec["trafficRouting"]["istio"]["virtualService"]["name"] = escape;
  EXPECT_EQ(SpecError(spec),
            "spec.trafficRouting.istio.virtualService.name: \"" + escape +
                "\" is not a valid name: must be lowercase letters, digits, "
                "'-' and '.', start and end with a letter or digit");

  spec = ValidSpec();
  spec["trafficRouting"]["istio"]["destinationRule"]["name"] = escape;
  EXPECT_EQ(SpecError(spec).rfind(
                "spec.trafficRouting.istio.destinationRule.name: \"../", 0),
            0u);

  spec = ValidSpec();
  spec["trafficRouting"]["istio"]["destinationRule"]["canarySubsetName"] =
      "canary.v2";
  EXPECT_EQ(
      SpecError(spec).rfind(
          "spec.trafficRouting.istio.destinationRule.canarySubsetName: ", 0),
      0u);

  spec = ValidSpec();
  spec["trafficRouting"]["istio"].erase("destinationRule");
  spec["stableService"] = "rpc-stable";
  spec["canaryService"] = "../b/services/x";
  EXPECT_EQ(SpecError(spec).rfind("spec.canaryService: \"../b/services/x\" is "
                                  "not a valid name",
                                  0),
            0u);
  spec["canaryService"] = "rpc-canary";
  spec["stableService"] = "rpc.stable";
  EXPECT_EQ(SpecError(spec).rfind("spec.stableService: ", 0), 0u)
      << "a Service name is a DNS label: no dots";

  spec = ValidSpec();
  spec["steps"][1] = {
      {"analysis", {{"templates", {{{"templateName", "../../b/x"}}}}}}};
  EXPECT_EQ(
      SpecError(spec).rfind(
          "spec.steps[1].analysis.templates[0].templateName: \"../../b/x\"", 0),
      0u);
  spec = ValidSpec();
  spec["analysis"] = {{"templates", {{{"templateName", "A"}}}}};
  EXPECT_EQ(
      SpecError(spec).rfind("spec.analysis.templates[0].templateName: ", 0),
      0u);
}

TEST(HostileNamesTest, CanaryLabelsFollowKubernetesLabelSyntax) {
  json spec = ValidSpec();
  spec["canaryLabels"] = {{"version", "v2\"} or vector(1) #"}};
  EXPECT_EQ(SpecError(spec).rfind("spec.canaryLabels[\"version\"]: ", 0), 0u);
  spec["canaryLabels"] = {{"bad key", "v2"}};
  EXPECT_EQ(SpecError(spec).rfind("spec.canaryLabels[\"bad key\"]: ", 0), 0u);
  spec["canaryLabels"] = {{"app.kubernetes.io/version", "v2"}};
  EXPECT_TRUE(ParseRolloutSpec(spec).ok());
}

TEST(HostileNamesTest, SpecsBuiltFromTheApiAreCheckedTheSameWay) {
  auto spec = ParseRolloutSpec(ValidSpec());
  ASSERT_TRUE(spec.ok()) << spec.status();
  v1::RolloutSpec proto = SpecToProto(*spec);
  proto.mutable_traffic_routing()->set_virtual_service("../../b/x");
  auto parsed = SpecFromProto(proto);
  EXPECT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("virtualService.name"),
            absl::string_view::npos)
      << parsed.status();
}

TEST(HostileNamesTest, PathsEscapeWhatTheParsersWouldHaveRefused) {
  EXPECT_EQ(kube::kVirtualServices.Item("a", "../../b/virtualservices/b-vs"),
            "/apis/networking.istio.io/v1/namespaces/a/virtualservices/"
            "..%2F..%2Fb%2Fvirtualservices%2Fb-vs");
  EXPECT_EQ(kube::kServices.Item("..", "x"),
            "/api/v1/namespaces/%2E%2E/services/x");
}

TEST(WrongTypesTest, RolloutFieldsOfTheWrongTypeNameThePath) {
  json spec = ValidSpec();
  spec["steps"][0]["setWeight"] = "20";
  EXPECT_EQ(SpecError(spec),
            "spec.steps[0].setWeight: must be a whole number, got string");
  spec["steps"][0]["setWeight"] = 4294967316;  // 20 if narrowed to int
  EXPECT_EQ(SpecError(spec),
            "spec.steps[0].setWeight: must be between 0 and 100, got "
            "4294967316");
  spec = ValidSpec();
  spec["trafficRouting"]["istio"]["virtualService"]["name"] = 7;
  EXPECT_EQ(SpecError(spec),
            "spec.trafficRouting.istio.virtualService.name: must be a string, "
            "got number");
  spec = ValidSpec();
  spec["analysis"] = {{"templates", {{{"templateName", "t"}}}},
                      {"startingStep", "1"}};
  EXPECT_EQ(SpecError(spec),
            "spec.analysis.startingStep: must be a whole number, got string");
  spec = ValidSpec();
  spec["steps"][1] = {
      {"analysis",
       {{"templates", {{{"templateName", "t"}, {"clusterScope", "yes"}}}}}}};
  EXPECT_EQ(SpecError(spec),
            "spec.steps[1].analysis.templates[0].clusterScope: must be true "
            "or false, got string");
}

TEST(WrongTypesTest, ComparativeNumbersGivenAsStrings) {
  json spec = ComparativeTemplate();
  auto& comparative = spec["metrics"][0]["provider"]["comparative"];
  comparative["alpha"] = "0.01";
  EXPECT_EQ(TemplateError(spec),
            "CanaryAnalysisTemplate t spec.metrics[0] (errors).provider."
            "comparative.alpha: must be a number, got string \"0.01\"");
  comparative.erase("alpha");
  comparative["margin"] = json::array();
  EXPECT_NE(TemplateError(spec).find("comparative.margin: must be a number"),
            std::string::npos);
  comparative.erase("margin");
  comparative["istio"]["event"] = "slower-than";
  comparative["istio"]["latencyObjectiveMs"] = "250";
  EXPECT_NE(TemplateError(spec).find("comparative.istio.latencyObjectiveMs: "
                                     "must be a number, got string \"250\""),
            std::string::npos);
  comparative["istio"]["latencyObjectiveMs"] = 250;
  EXPECT_TRUE(ParseAnalysisTemplate(spec, "t").ok());
  comparative["istio"]["service"] = 5;
  EXPECT_NE(TemplateError(spec).find("comparative.istio.service: must be a "
                                     "string, got number"),
            std::string::npos);
  comparative["istio"]["service"] = "rpc-server";
  comparative["istio"]["event"] = true;
  EXPECT_NE(TemplateError(spec).find("comparative.istio.event: must be a "
                                     "string, got boolean"),
            std::string::npos);
}

TEST(WrongTypesTest, TemplateStringsOfTheWrongType) {
  json spec = ComparativeTemplate();
  spec["metrics"][0]["successCondition"] = 1;
  EXPECT_NE(TemplateError(spec).find("(errors).successCondition: must be a "
                                     "string, got number"),
            std::string::npos);
  spec = ComparativeTemplate();
  auto& prometheus =
      spec["metrics"][0]["provider"]["comparative"]["prometheus"];
  prometheus["headers"] = {{{"key", "X-Scope"}, {"value", 3}}};
  EXPECT_NE(TemplateError(spec).find("prometheus.headers[0].value: must be a "
                                     "string"),
            std::string::npos);
  prometheus.erase("headers");
  prometheus["basicAuth"] = {{"username", json::object()}};
  EXPECT_NE(TemplateError(spec).find("prometheus.basicAuth.username: must be "
                                     "a string"),
            std::string::npos);
  spec = ComparativeTemplate();
  spec["metrics"][0]["count"] = 4294967297;  // 1 if narrowed to int
  EXPECT_NE(TemplateError(spec).find(".count: must be between 0 and"),
            std::string::npos);
}

TEST(WrongTypesTest, SelectorKeysMustBePrometheusLabelNames) {
  json spec = ComparativeTemplate();
  spec["metrics"][0]["provider"]["comparative"]["istio"]["canary"] = {
      {"x=\"\"} or vector(1) #", "v2"}};
  EXPECT_NE(TemplateError(spec).find("is not a Prometheus label name"),
            std::string::npos);
}

// The CRD keeps provider.comparative unpruned (x-kubernetes-preserve-
// unknown-fields), so a typo there reaches canaryd: refused naming it.
TEST(UnknownFieldsTest, TyposInTheUnprunedComparativeProviderAreRefused) {
  json spec = ComparativeTemplate();
  spec["metrics"][0]["provider"]["comparative"]["margn"] = 0.01;
  EXPECT_NE(
      TemplateError(spec).find("provider.comparative.margn: unknown field"),
      std::string::npos);
  spec = ComparativeTemplate();
  spec["metrics"][0]["provider"]["comparative"]["istio"]["canry"] =
      json::object();
  EXPECT_NE(TemplateError(spec).find(
                "provider.comparative.istio.canry: unknown field"),
            std::string::npos);
}

}  // namespace
}  // namespace smartcanary
