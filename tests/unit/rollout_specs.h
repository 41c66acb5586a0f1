#ifndef SMARTCANARY_TESTS_UNIT_ROLLOUT_SPECS_H_
#define SMARTCANARY_TESTS_UNIT_ROLLOUT_SPECS_H_

#include <string>
#include <utility>
#include <vector>

#include "controller/rollout_spec.h"
#include "nlohmann/json.hpp"

namespace smartcanary {

// A valid subset-level spec (VirtualService vs, DestinationRule dr with
// subsets stable and canary, canary labels version: v2) with `steps`: what
// the state machine tests vary is the plan, not the routing.
inline RolloutSpec SubsetRouted(std::vector<Step> steps) {
  RolloutSpec spec;
  spec.traffic_routing.virtual_service = "vs";
  spec.traffic_routing.destination_rule = "dr";
  spec.traffic_routing.stable_subset = "stable";
  spec.traffic_routing.canary_subset = "canary";
  spec.canary_labels = {{"version", "v2"}};
  spec.steps = std::move(steps);
  return spec;
}

// The mesh objects SubsetRouted names, in namespace `ns`: VirtualService vs
// with one route (stable 100, canary 0) and DestinationRule dr with subsets
// stable and canary (both version v1).
inline nlohmann::json SubsetVirtualServiceJson(const std::string& ns) {
  return {{"metadata", {{"name", "vs"}, {"namespace", ns}}},
          {"spec",
           {{"hosts", {"rpc"}},
            {"http",
             {{{"route",
                {{{"destination", {{"host", "rpc"}, {"subset", "stable"}}},
                  {"weight", 100}},
                 {{"destination", {{"host", "rpc"}, {"subset", "canary"}}},
                  {"weight", 0}}}}}}}}}};
}
inline nlohmann::json SubsetDestinationRuleJson(const std::string& ns) {
  return {{"metadata", {{"name", "dr"}, {"namespace", ns}}},
          {"spec",
           {{"host", "rpc"},
            {"subsets",
             {{{"name", "stable"}, {"labels", {{"version", "v1"}}}},
              {{"name", "canary"}, {"labels", {{"version", "v1"}}}}}}}}};
}

// The article's plan as a CanaryRollout spec object: subset-level routing
// of rpc-server, steps 20%, pause, 50%, pause 30s, 100%.
inline nlohmann::json ArticleSpecJson() {
  return nlohmann::json::parse(R"({
    "canaryLabels": {"version": "v2"},
    "trafficRouting": {"istio": {
      "virtualService": {"name": "rpc-server", "routes": ["primary"]},
      "destinationRule": {"name": "rpc-server", "stableSubsetName": "stable",
                          "canarySubsetName": "canary"}}},
    "steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 50},
              {"pause": {"duration": "30s"}}, {"setWeight": 100}]
  })");
}

}  // namespace smartcanary

#endif  // SMARTCANARY_TESTS_UNIT_ROLLOUT_SPECS_H_
