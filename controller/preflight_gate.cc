#include "controller/preflight_gate.h"

#include "absl/strings/str_cat.h"

namespace smartcanary {

std::optional<std::string> PreflightHoldMessage(const RolloutSpec& spec,
                                                const RolloutStatus& status) {
  if (spec.preflight != PreflightPolicy::kEnforce) return std::nullopt;
  // Only the first traffic is gated: once the canary serves, the judge is
  // watching it and holding at a later weight protects nothing.
  if (status.canary_weight != 0 || !status.preflight) return std::nullopt;
  const PreflightStatus& preflight = *status.preflight;
  if (preflight.generation != status.observed_generation ||
      preflight.overridden || !preflight.Fails()) {
    return std::nullopt;
  }
  return absl::StrCat(
      "held by pre-flight (spec.preflight: enforce): ", preflight.message,
      "; lifts when a later pre-flight passes (more traffic, longer steps), "
      "or promote to proceed anyway, or abort");
}

}  // namespace smartcanary
