#ifndef SMARTCANARY_TESTS_UNIT_ROLLOUT_SPECS_H_
#define SMARTCANARY_TESTS_UNIT_ROLLOUT_SPECS_H_

#include <utility>
#include <vector>

#include "controller/rollout_spec.h"

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

}  // namespace smartcanary

#endif  // SMARTCANARY_TESTS_UNIT_ROLLOUT_SPECS_H_
