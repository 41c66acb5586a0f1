#ifndef SMARTCANARY_CONTROLLER_ROLLOUT_FINALIZER_H_
#define SMARTCANARY_CONTROLLER_ROLLOUT_FINALIZER_H_

#include "nlohmann/json.hpp"

// canaryd's finalizer on CanaryRollouts: deleting a rollout mid-way returns
// its traffic to stable before the object goes. Pure JSON-Patch builders.
namespace smartcanary {

inline constexpr char kTrafficFinalizer[] = "smartcanary.dev/traffic";

bool HasTrafficFinalizer(const nlohmann::json& object);
bool BeingDeleted(const nlohmann::json& object);

// Adds or removes the finalizer, guarded by the object's resourceVersion
// (these are rare writes, and a conflict just means read again). Empty when
// there is nothing to do.
nlohmann::json AddTrafficFinalizerPatch(const nlohmann::json& object);
nlohmann::json RemoveTrafficFinalizerPatch(const nlohmann::json& object);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ROLLOUT_FINALIZER_H_
