// Several VirtualServices per rollout (Argo's `virtualServices`): parsed
// strictly, moved together, rolled back together when one write fails, and
// host-level completion through the stable Service's selector.
#include <gtest/gtest.h>

#include "controller/istio/istio_router.h"
#include "controller/istio/route_patch.h"
#include "controller/kube/fake_kube.h"
#include "controller/kube/resources.h"
#include "controller/proto_unknown_fields.h"
#include "controller/rollout_proto.h"
#include "controller/rollout_spec.h"
#include "tests/unit/rollout_specs.h"

namespace smartcanary {
namespace {

using nlohmann::json;

constexpr char kNs[] = "team";

json TwoVirtualServicesSpec() {
  json spec = ArticleSpecJson();
  json& istio = spec["trafficRouting"]["istio"];
  istio.erase("virtualService");
  istio["virtualServices"] = {{{"name", "gateway"}, {"routes", {"primary"}}},
                              {{"name", "mesh"}}};
  return spec;
}

std::string ErrorOf(const json& spec) {
  auto parsed = ParseRolloutSpec(spec);
  EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << parsed.status();
  return std::string(parsed.status().message());
}

TEST(VirtualServicesSpecTest, ParsesTheListAndRoundTrips) {
  auto spec = ParseRolloutSpec(TwoVirtualServicesSpec());
  ASSERT_TRUE(spec.ok()) << spec.status();
  const std::vector<VirtualServiceRef> expected = {{"gateway", {"primary"}},
                                                   {"mesh", {}}};
  EXPECT_EQ(spec->traffic_routing.AllVirtualServices(), expected);
  EXPECT_TRUE(spec->traffic_routing.virtual_service.empty());
  EXPECT_EQ(*ParseRolloutSpec(RolloutSpecToJson(*spec)), *spec);
  EXPECT_EQ(*SpecFromProto(SpecToProto(*spec)), *spec);
  // The single form stays what it was.
  auto single = ParseRolloutSpec(ArticleSpecJson());
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->traffic_routing.AllVirtualServices(),
            (std::vector<VirtualServiceRef>{{"rpc-server", {"primary"}}}));
}

TEST(VirtualServicesSpecTest, ExactlyOneFormAndEveryEntryChecked) {
  json spec = TwoVirtualServicesSpec();
  spec["trafficRouting"]["istio"]["virtualService"] = {{"name", "x"}};
  EXPECT_EQ(ErrorOf(spec),
            "spec.trafficRouting.istio: set exactly one of virtualService and "
            "virtualServices");
  spec["trafficRouting"]["istio"].erase("virtualService");
  spec["trafficRouting"]["istio"].erase("virtualServices");
  EXPECT_EQ(ErrorOf(spec),
            "spec.trafficRouting.istio: set exactly one of virtualService and "
            "virtualServices");

  spec = TwoVirtualServicesSpec();
  spec["trafficRouting"]["istio"]["virtualServices"] = json::array();
  EXPECT_EQ(ErrorOf(spec),
            "spec.trafficRouting.istio.virtualServices: must be a list of 1 "
            "to 16 VirtualServices");

  spec = TwoVirtualServicesSpec();
  spec["trafficRouting"]["istio"]["virtualServices"][1]["rutes"] = {"a"};
  EXPECT_NE(ErrorOf(spec).find(
                "spec.trafficRouting.istio.virtualServices[1].rutes: unknown "
                "field"),
            std::string::npos);

  spec = TwoVirtualServicesSpec();
  spec["trafficRouting"]["istio"]["virtualServices"][1]["name"] = "../x";
  EXPECT_NE(
      ErrorOf(spec).find("spec.trafficRouting.istio.virtualServices[1].name: "),
      std::string::npos);

  spec = TwoVirtualServicesSpec();
  spec["trafficRouting"]["istio"]["virtualServices"][1]["name"] = "gateway";
  EXPECT_EQ(ErrorOf(spec),
            "spec.trafficRouting.istio.virtualServices[1].name: \"gateway\" "
            "is listed twice");

  spec = TwoVirtualServicesSpec();
  spec["trafficRouting"]["istio"]["virtualServces"] = json::array();
  EXPECT_NE(ErrorOf(spec).find(
                "spec.trafficRouting.istio.virtualServces: unknown field"),
            std::string::npos);
}

TEST(VirtualServicesSpecTest, ProtoSpecsMayNotMixTheForms) {
  RolloutSpec spec = *ParseRolloutSpec(TwoVirtualServicesSpec());
  spec.traffic_routing.virtual_service = "rpc-server";
  EXPECT_EQ(ValidateRolloutSpec(spec).message(),
            "spec.trafficRouting.istio: set exactly one of virtualService and "
            "virtualServices");
}

// A field number this build does not know (a newer or wrong client) is an
// error naming where it is, not a setting silently dropped.
TEST(UnknownProtoFieldsTest, StartRolloutInputWithAnUnknownFieldIsRefused) {
  v1::RolloutSpec proto = SpecToProto(*ParseRolloutSpec(ArticleSpecJson()));
  ASSERT_TRUE(RejectUnknownProtoFields(proto, "spec").ok());
  proto.mutable_traffic_routing()
      ->GetReflection()
      ->MutableUnknownFields(proto.mutable_traffic_routing())
      ->AddVarint(99, 1);
  auto parsed = SpecFromProto(proto);
  ASSERT_TRUE(absl::IsInvalidArgument(parsed.status()));
  EXPECT_EQ(parsed.status().message(),
            "spec.trafficRouting: unknown field number 99");

  v1::RolloutSpec nested = SpecToProto(*ParseRolloutSpec(ArticleSpecJson()));
  nested.mutable_steps(1)
      ->mutable_pause()
      ->GetReflection()
      ->MutableUnknownFields(nested.mutable_steps(1)->mutable_pause())
      ->AddFixed32(7, 3);
  EXPECT_EQ(SpecFromProto(nested).status().message(),
            "spec.steps[1].pause: unknown field number 7");
}

json MeshVirtualService(const std::string& name, int canary_weight) {
  return {{"kind", "VirtualService"},
          {"metadata", {{"name", name}, {"namespace", kNs}}},
          {"spec",
           {{"hosts", {"rpc"}},
            {"http",
             {{{"name", "primary"},
               {"route",
                {{{"destination", {{"host", "rpc"}, {"subset", "stable"}}},
                  {"weight", 100 - canary_weight}},
                 {{"destination", {{"host", "rpc"}, {"subset", "canary"}}},
                  {"weight", canary_weight}}}}}}}}}};
}

class MultiRouterTest : public ::testing::Test {
 protected:
  MultiRouterTest() {
    for (const char* name : {"gateway", "mesh"}) {
      EXPECT_TRUE(kube_
                      .Seed(kube::kVirtualServices.Collection(kNs),
                            MeshVirtualService(name, 0))
                      .ok());
    }
    EXPECT_TRUE(
        kube_
            .Seed(
                kube::kDestinationRules.Collection(kNs),
                {{"kind", "DestinationRule"},
                 {"metadata", {{"name", "dr"}, {"namespace", kNs}}},
                 {"spec",
                  {{"host", "rpc"},
                   {"subsets",
                    {{{"name", "stable"}, {"labels", {{"version", "v1"}}}},
                     {{"name", "canary"}, {"labels", {{"version", "v1"}}}}}}}}})
            .ok());
    routing_.virtual_services = {{"gateway", {"primary"}}, {"mesh", {}}};
    routing_.destination_rule = "dr";
    routing_.stable_subset = "stable";
    routing_.canary_subset = "canary";
  }

  int CanaryWeightOf(const std::string& name) {
    json vs = *kube_.Peek(kube::kVirtualServices.Item(kNs, name));
    return vs["spec"]["http"][0]["route"][1]["weight"].get<int>();
  }

  kube::FakeKube kube_;
  TrafficRouting routing_;
};

TEST_F(MultiRouterTest, EveryVirtualServiceMovesAtEveryStep) {
  istio::IstioRouter router(kube_, kNs, routing_);
  ASSERT_TRUE(router.Verify().ok());
  for (int weight : {20, 50, 100, 0}) {
    auto changed = router.SetCanaryWeight(weight);
    ASSERT_TRUE(changed.ok()) << changed.status();
    EXPECT_TRUE(*changed);
    EXPECT_EQ(CanaryWeightOf("gateway"), weight);
    EXPECT_EQ(CanaryWeightOf("mesh"), weight);
    EXPECT_EQ(*router.GetCanaryWeight(), weight);
  }
  EXPECT_FALSE(*router.SetCanaryWeight(0)) << "nothing left to change";
}

TEST_F(MultiRouterTest, AFailedSecondWritePutsTheFirstBackOnStable) {
  istio::IstioRouter router(kube_, kNs, routing_);
  // The first PATCH (gateway) succeeds, the second (mesh) is refused.
  int patches = 0;
  kube_.SetHook([&](const std::string& method, const std::string& path) {
    if (method != "PATCH") return absl::OkStatus();
    ++patches;
    if (patches == 2 && path.find("/mesh") != std::string::npos)
      return absl::PermissionDeniedError("mesh: forbidden");
    return absl::OkStatus();
  });
  auto changed = router.SetCanaryWeight(30);
  EXPECT_TRUE(absl::IsPermissionDenied(changed.status())) << changed.status();
  EXPECT_EQ(patches, 3) << "gateway moved, mesh refused, gateway moved back";
  EXPECT_EQ(CanaryWeightOf("gateway"), 0);
  EXPECT_EQ(CanaryWeightOf("mesh"), 0);
}

TEST_F(MultiRouterTest, VirtualServicesThatDisagreeAreNoWeight) {
  ASSERT_TRUE(kube_
                  .Put(kube::kVirtualServices.Item(kNs, "mesh"),
                       [&] {
                         json vs = *kube_.Peek(
                             kube::kVirtualServices.Item(kNs, "mesh"));
                         vs["spec"]["http"][0]["route"][1]["weight"] = 40;
                         vs["spec"]["http"][0]["route"][0]["weight"] = 60;
                         return vs;
                       }())
                  .ok());
  istio::IstioRouter router(kube_, kNs, routing_);
  // Each is well formed, so the rollout may start (its first write aligns
  // them); read back, the disagreement is an error, never a weight.
  EXPECT_TRUE(router.Verify().ok());
  auto weight = router.GetCanaryWeight();
  EXPECT_TRUE(absl::IsUnavailable(weight.status())) << weight.status();
  EXPECT_NE(weight.status().message().find("mesh has 40"), std::string::npos);
  ASSERT_TRUE(router.SetCanaryWeight(0).ok());
  EXPECT_EQ(*router.GetCanaryWeight(), 0);
}

TEST_F(MultiRouterTest, AMissingRouteInAnyVirtualServiceFailsVerify) {
  routing_.virtual_services[1].routes = {"absent"};
  istio::IstioRouter router(kube_, kNs, routing_);
  absl::Status verified = router.Verify();
  EXPECT_TRUE(absl::IsFailedPrecondition(verified)) << verified;
  EXPECT_NE(verified.message().find("mesh has no http route named \"absent\""),
            std::string::npos);
}

json Service(const std::string& name, const json& selector) {
  return {{"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", kNs}}},
          {"spec", {{"selector", selector}}}};
}

TEST(PromotedSelectorPatchTest, StableTakesTheCanaryLabels) {
  json stable = Service("rpc", {{"app", "rpc"}, {"version", "v1"}});
  json canary = Service("rpc-canary", {{"app", "rpc"}, {"version", "v2"}});
  auto ops = istio::PromotedSelectorPatch(stable, canary, {{"version", "v2"}});
  ASSERT_TRUE(ops.ok()) << ops.status();
  EXPECT_EQ(stable.patch(*ops)["spec"]["selector"], canary["spec"]["selector"]);
  // No canaryLabels: the canary Service's selector is what stable takes.
  ops = istio::PromotedSelectorPatch(stable, canary, {});
  ASSERT_TRUE(ops.ok()) << ops.status();
  EXPECT_EQ(stable.patch(*ops)["spec"]["selector"], canary["spec"]["selector"]);
}

TEST(PromotedSelectorPatchTest, RefusesASelectorThatCouldMatchNoPod) {
  // stable keeps tier=stable, which the canary's pods need not carry: the
  // stable Service could be left with no endpoints.
  json stable = Service("rpc", {{"app", "rpc"}, {"tier", "stable"}});
  json canary = Service("rpc-canary", {{"app", "rpc"}, {"version", "v2"}});
  auto ops = istio::PromotedSelectorPatch(stable, canary, {{"version", "v2"}});
  EXPECT_TRUE(absl::IsFailedPrecondition(ops.status())) << ops.status();
  EXPECT_NE(ops.status().message().find("tier=stable"), std::string::npos);
}

TEST(HostLevelRouterTest, PromoteStableRewritesTheStableServiceSelector) {
  kube::FakeKube kube;
  ASSERT_TRUE(kube.Seed(kube::kServices.Collection(kNs),
                        Service("rpc", {{"app", "rpc"}, {"version", "v1"}}))
                  .ok());
  ASSERT_TRUE(
      kube.Seed(kube::kServices.Collection(kNs),
                Service("rpc-canary", {{"app", "rpc"}, {"version", "v2"}}))
          .ok());
  TrafficRouting routing;
  routing.virtual_service = "vs";
  routing.stable_service = "rpc";
  routing.canary_service = "rpc-canary";
  istio::IstioRouter router(kube, kNs, routing);
  ASSERT_TRUE(router.PromoteStable({{"version", "v2"}}).ok());
  json stable = *kube.Peek(kube::kServices.Item(kNs, "rpc"));
  EXPECT_EQ(stable["spec"]["selector"],
            (json{{"app", "rpc"}, {"version", "v2"}}));
  json canary = *kube.Peek(kube::kServices.Item(kNs, "rpc-canary"));
  EXPECT_EQ(canary["spec"]["selector"],
            (json{{"app", "rpc"}, {"version", "v2"}}))
      << "the canary Service is never touched";
}

}  // namespace
}  // namespace smartcanary
