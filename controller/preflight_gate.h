#ifndef SMARTCANARY_CONTROLLER_PREFLIGHT_GATE_H_
#define SMARTCANARY_CONTROLLER_PREFLIGHT_GATE_H_

#include <optional>
#include <string>

#include "controller/rollout_spec.h"
#include "controller/rollout_status.h"

// spec.preflight: enforce, as a pure rule the state machine applies before
// a setWeight step gives the canary its first traffic.
namespace smartcanary {

// The hold message when `status` must not give the canary weight yet:
// enforce, the canary at 0, and this generation's last pre-flight known and
// too short (a person's promote past it, an unknown pre-flight, or warn
// never hold). nullopt: go on.
std::optional<std::string> PreflightHoldMessage(const RolloutSpec& spec,
                                                const RolloutStatus& status);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_PREFLIGHT_GATE_H_
