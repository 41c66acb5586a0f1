#ifndef SMARTCANARY_CONTROLLER_PREFLIGHT_STATUS_H_
#define SMARTCANARY_CONTROLLER_PREFLIGHT_STATUS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

// The pre-flight's place in a rollout: the policy a spec sets
// (spec.preflight) and the last result canaryd wrote (status.preflight).
namespace smartcanary {

// warn: the result is reported (status, canaryctl get, an Event) and the
// rollout proceeds. enforce: a plan that ends before a 2x regression could
// show holds the rollout before the canary takes weight.
enum class PreflightPolicy { kWarn, kEnforce };

const char* PreflightPolicyName(PreflightPolicy policy);
// spec.preflight: "warn" or "enforce"; anything else is an error naming the
// field.
absl::StatusOr<PreflightPolicy> ParsePreflightPolicy(const nlohmann::json& v);

// status.preflight: the analyzer's Preflight answer for one step of one
// generation.
struct PreflightStatus {
  // The analyzer could not answer (down, Prometheus silent): the pre-flight
  // is unknown and never holds a rollout; `message` says why.
  bool unknown = false;
  // From computed_at; absl::InfiniteDuration(): never within the plan.
  absl::Duration regression_detected = absl::InfiniteDuration();
  absl::Duration not_worse_proven = absl::InfiniteDuration();
  // A 2x regression shows before the plan ends.
  bool plan_long_enough = false;
  std::string message;
  absl::Time computed_at;
  int64_t generation = 0;  // the spec generation it was computed for
  int step_index = 0;      // the step it was computed at
  // A person promoted past an enforce hold: this generation is not held
  // again by the pre-flight.
  bool overridden = false;

  bool operator==(const PreflightStatus&) const = default;
  // Known and too short: what enforce holds on.
  bool Fails() const { return !unknown && !plan_long_enough; }
};

// "Passed", "Warning" (the plan ends before a 2x regression could show) or
// "Unknown": status.preflight.result, and the Event's verdict.
std::string PreflightResultName(const PreflightStatus& preflight);

nlohmann::json PreflightStatusToJson(const PreflightStatus& preflight);
absl::StatusOr<PreflightStatus> PreflightStatusFromJson(
    const nlohmann::json& value);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_PREFLIGHT_STATUS_H_
