#include "controller/istio/route_patch.h"

#include <gtest/gtest.h>

namespace smartcanary::istio {
namespace {

using nlohmann::json;

TrafficRouting SubsetRouting(std::vector<std::string> routes = {"primary"}) {
  TrafficRouting tr;
  tr.virtual_service = "rpc";
  tr.routes = std::move(routes);
  tr.destination_rule = "rpc";
  tr.stable_subset = "stable";
  tr.canary_subset = "canary";
  return tr;
}

TrafficRouting HostRouting() {
  TrafficRouting tr;
  tr.virtual_service = "rpc";
  tr.stable_service = "rpc-stable";
  tr.canary_service = "rpc-canary";
  return tr;
}

json Route(const std::string& name, const std::vector<json>& destinations) {
  return {{"name", name}, {"route", json(destinations)}};
}

json Dest(const std::string& host, const std::string& subset,
          std::optional<int> weight) {
  json d = {{"destination", {{"host", host}}}};
  if (!subset.empty()) d["destination"]["subset"] = subset;
  if (weight) d["weight"] = *weight;
  return d;
}

// A vector, not a json: a one-element braced json list would collapse into
// that element.
json VirtualService(const std::vector<json>& http) {
  return {
      {"kind", "VirtualService"},
      {"metadata",
       {{"name", "rpc"}, {"namespace", "default"}, {"resourceVersion", "42"}}},
      {"spec", {{"hosts", {"rpc"}}, {"http", json(http)}}}};
}

// Applies RFC 6902 ops to a document (nlohmann implements the RFC).
json Apply(const json& doc, const json& ops) { return doc.patch(ops); }

TEST(VirtualServiceWeightPatchTest,
     SubsetLevelSetsBothWeightsGuardedByATestOfTheOwnedDestinations) {
  json vs = VirtualService({Route(
      "primary", {Dest("rpc", "stable", 100), Dest("rpc", "canary", 0)})});
  auto ops = VirtualServiceWeightPatch(vs, SubsetRouting(), 20);
  ASSERT_TRUE(ops.ok()) << ops.status();
  EXPECT_EQ((*ops)[0], (json{{"op", "test"},
                             {"path", "/spec/http/0/route"},
                             {"value", vs["spec"]["http"][0]["route"]}}));
  for (const json& op : *ops)
    EXPECT_NE(op["path"], "/metadata/resourceVersion");
  json patched = Apply(vs, *ops);
  EXPECT_EQ(patched["spec"]["http"][0]["route"][0]["weight"], 80);
  EXPECT_EQ(patched["spec"]["http"][0]["route"][1]["weight"], 20);
  EXPECT_EQ(*VirtualServiceCanaryWeight(patched, SubsetRouting()), 20);
}

TEST(VirtualServiceWeightPatchTest, NothingToDoGivesNoPatch) {
  json vs = VirtualService({Route(
      "primary", {Dest("rpc", "stable", 50), Dest("rpc", "canary", 50)})});
  auto ops = VirtualServiceWeightPatch(vs, SubsetRouting(), 50);
  ASSERT_TRUE(ops.ok());
  EXPECT_TRUE(ops->empty());
}

TEST(VirtualServiceWeightPatchTest, MissingWeightsAreAdded) {
  json vs =
      VirtualService({Route("primary", {Dest("rpc", "stable", std::nullopt),
                                        Dest("rpc", "canary", std::nullopt)})});
  json patched = Apply(vs, *VirtualServiceWeightPatch(vs, SubsetRouting(), 30));
  EXPECT_EQ(patched["spec"]["http"][0]["route"][0]["weight"], 70);
  EXPECT_EQ(patched["spec"]["http"][0]["route"][1]["weight"], 30);
}

TEST(VirtualServiceWeightPatchTest,
     SeveralOwnedRoutesChangeAndOthersAreLeftAlone) {
  json other = Route("admin", {Dest("admin", "", 100)});
  json header = {{"name", "beta-users"},
                 {"match", {{{"headers", {{"x-beta", {{"exact", "1"}}}}}}}},
                 {"route", json::array({Dest("rpc", "canary", 100)})},
                 {"timeout", "3s"}};
  json vs = VirtualService(
      {other, header,
       Route("primary", {Dest("rpc", "stable", 100), Dest("rpc", "canary", 0)}),
       Route("secondary",
             {Dest("rpc", "canary", 0), Dest("rpc", "stable", 100)})});
  json patched =
      Apply(vs, *VirtualServiceWeightPatch(
                    vs, SubsetRouting({"primary", "secondary"}), 35));
  EXPECT_EQ(patched["spec"]["http"][0], other);
  EXPECT_EQ(patched["spec"]["http"][1], header);
  EXPECT_EQ(patched["spec"]["http"][2]["route"][0]["weight"], 65);
  EXPECT_EQ(patched["spec"]["http"][2]["route"][1]["weight"], 35);
  EXPECT_EQ(patched["spec"]["http"][3]["route"][0]["weight"],
            35);  // canary listed first
  EXPECT_EQ(patched["spec"]["http"][3]["route"][1]["weight"], 65);
  json unchanged = patched;
  unchanged["spec"]["http"] = vs["spec"]["http"];
  EXPECT_EQ(unchanged, vs) << "nothing outside the owned weights changes";
}

TEST(VirtualServiceWeightPatchTest,
     AnEditOfAnotherRouteKeepsThePatchValidAnEditOfOursFailsIt) {
  json vs = VirtualService({Route("admin", {Dest("admin", "", 100)}),
                            Route("primary", {Dest("rpc", "stable", 100),
                                              Dest("rpc", "canary", 0)})});
  json ops = *VirtualServiceWeightPatch(vs, SubsetRouting({"primary"}), 20);
  json edited_elsewhere = vs;
  edited_elsewhere["spec"]["http"][0]["timeout"] = "5s";
  edited_elsewhere["spec"]["http"][1]["retries"] = {{"attempts", 3}};
  edited_elsewhere["metadata"]["resourceVersion"] = "43";
  json patched = Apply(edited_elsewhere, ops);
  EXPECT_EQ(patched["spec"]["http"][1]["route"][1]["weight"], 20);
  EXPECT_EQ(patched["spec"]["http"][0]["timeout"], "5s");
  json edited_ours = vs;
  edited_ours["spec"]["http"][1]["route"][1]["weight"] = 50;
  EXPECT_THROW(Apply(edited_ours, ops), json::other_error);
}

TEST(VirtualServiceWeightPatchTest, HostLevelMatchesShortAndQualifiedHosts) {
  json vs = VirtualService(
      {Route("primary", {Dest("rpc-stable.default.svc.cluster.local", "", 100),
                         Dest("rpc-canary", "", 0)})});
  json patched = Apply(vs, *VirtualServiceWeightPatch(vs, HostRouting(), 100));
  EXPECT_EQ(patched["spec"]["http"][0]["route"][0]["weight"], 0);
  EXPECT_EQ(patched["spec"]["http"][0]["route"][1]["weight"], 100);
}

TEST(VirtualServiceWeightPatchTest,
     SingleUnnamedRouteIsUsedWhenNoRoutesAreNamed) {
  json vs = VirtualService(
      {json{{"route", json::array({Dest("rpc", "stable", 100),
                                   Dest("rpc", "canary", 0)})}}});
  json patched =
      Apply(vs, *VirtualServiceWeightPatch(vs, SubsetRouting({}), 5));
  EXPECT_EQ(patched["spec"]["http"][0]["route"][1]["weight"], 5);
}

TEST(VirtualServiceWeightPatchTest, ErrorsNameTheObjectAndWhatIsMissing) {
  json two = VirtualService(
      {Route("a", {Dest("rpc", "stable", 100), Dest("rpc", "canary", 0)}),
       Route("b", {Dest("rpc", "stable", 100), Dest("rpc", "canary", 0)})});
  auto ambiguous = VirtualServiceWeightPatch(two, SubsetRouting({}), 5);
  EXPECT_TRUE(absl::IsFailedPrecondition(ambiguous.status()));
  EXPECT_NE(ambiguous.status().message().find("has 2 http routes"),
            absl::string_view::npos);

  auto missing_route =
      VirtualServiceWeightPatch(two, SubsetRouting({"primary"}), 5);
  EXPECT_EQ(missing_route.status().message(),
            "VirtualService default/rpc has no http route named \"primary\"");

  json no_canary =
      VirtualService({Route("primary", {Dest("rpc", "stable", 100)})});
  auto missing_destination =
      VirtualServiceWeightPatch(no_canary, SubsetRouting(), 5);
  EXPECT_EQ(missing_destination.status().message(),
            "VirtualService default/rpc http route \"primary\" has no "
            "destination with "
            "subset \"canary\"");

  json empty = VirtualService({});
  EXPECT_TRUE(absl::IsFailedPrecondition(
      VirtualServiceWeightPatch(empty, SubsetRouting(), 5).status()));
}

json DestinationRule() {
  return {
      {"kind", "DestinationRule"},
      {"metadata",
       {{"name", "rpc"}, {"namespace", "default"}, {"resourceVersion", "7"}}},
      {"spec",
       {{"host", "rpc"},
        {"subsets",
         {{{"name", "stable"}, {"labels", {{"app", "rpc"}, {"version", "v1"}}}},
          {{"name", "canary"},
           {"labels", {{"app", "rpc"}, {"version", "v1"}}}}}}}}};
}

TEST(SubsetLabelsPatchTest, MergesLabelsIntoOneSubsetOnly) {
  json dr = DestinationRule();
  auto ops = SubsetLabelsPatch(dr, "canary",
                               {{"version", "v2"}, {"track", "canary/x"}});
  ASSERT_TRUE(ops.ok()) << ops.status();
  json patched = Apply(dr, *ops);
  EXPECT_EQ(patched["spec"]["subsets"][1]["labels"],
            (json{{"app", "rpc"}, {"version", "v2"}, {"track", "canary/x"}}));
  EXPECT_EQ(patched["spec"]["subsets"][0], dr["spec"]["subsets"][0]);
  EXPECT_EQ((*ops)[0]["op"], "test");  // guards only the subset's labels
  EXPECT_TRUE(
      SubsetLabelsPatch(patched, "canary", {{"version", "v2"}})->empty());
}

TEST(SubsetLabelsPatchTest, MissingSubsetIsNamed) {
  auto ops =
      SubsetLabelsPatch(DestinationRule(), "preview", {{"version", "v2"}});
  EXPECT_EQ(ops.status().message(),
            "DestinationRule default/rpc has no subset named \"preview\"");
}

TEST(ServiceSelectorPatchTest, MergesIntoTheSelector) {
  json svc = {{"kind", "Service"},
              {"metadata",
               {{"name", "rpc-stable"},
                {"namespace", "default"},
                {"resourceVersion", "3"}}},
              {"spec", {{"selector", {{"app", "rpc"}, {"version", "v1"}}}}}};
  json patched = Apply(svc, *ServiceSelectorPatch(svc, {{"version", "v2"}}));
  EXPECT_EQ(patched["spec"]["selector"],
            (json{{"app", "rpc"}, {"version", "v2"}}));
}

}  // namespace
}  // namespace smartcanary::istio
