#ifndef SMARTCANARY_CONTROLLER_PREFLIGHT_PLAN_H_
#define SMARTCANARY_CONTROLLER_PREFLIGHT_PLAN_H_

#include <vector>

#include "controller/preflight_status.h"
#include "controller/rollout_spec.h"
#include "controller/rollout_status.h"
#include "smartcanary/v1/analysis.pb.h"

// What canaryd asks the analyzer's Preflight and how it records the answer.
// Pure.
namespace smartcanary {

// The rest of the plan from the current step: each timed pause (or pause
// until promoted) at the canary weight in force then. setWeight and
// analysis steps take no planned time of their own.
std::vector<v1::PlanStep> PreflightPlan(const RolloutSpec& spec,
                                        const RolloutStatus& status);

// The analyzer's answer as status.preflight.
PreflightStatus PreflightFromResponse(const v1::PreflightResponse& response,
                                      absl::Time at);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_PREFLIGHT_PLAN_H_
