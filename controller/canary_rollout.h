#ifndef SMARTCANARY_CONTROLLER_CANARY_ROLLOUT_H_
#define SMARTCANARY_CONTROLLER_CANARY_ROLLOUT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "controller/rollout_spec.h"
#include "controller/rollout_status.h"
#include "nlohmann/json.hpp"

namespace smartcanary {

// A CanaryRollout object as read from the API server.
struct CanaryRollout {
  std::string namespace_name;
  std::string name;
  std::string uid;  // what Events name as their involvedObject
  std::string resource_version;
  int64_t generation = 0;
  std::string creation_timestamp;
  RolloutSpec spec;
  RolloutStatus status;
};

// Reads an object; a spec the controller cannot execute is INVALID_ARGUMENT
// naming the field (kubectl can store what the schema alone allows).
absl::StatusOr<CanaryRollout> CanaryRolloutFromJson(
    const nlohmann::json& object);

// The object to create for a new rollout.
nlohmann::json NewCanaryRolloutJson(const std::string& ns,
                                    const std::string& name,
                                    const RolloutSpec& spec);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_CANARY_ROLLOUT_H_
