#include "controller/preflight_plan.h"

namespace smartcanary {

std::vector<v1::PlanStep> PreflightPlan(const RolloutSpec& spec,
                                        const RolloutStatus& status) {
  std::vector<v1::PlanStep> plan;
  int weight = status.canary_weight;
  for (size_t i = status.current_step_index; i < spec.steps.size(); ++i) {
    const Step& step = spec.steps[i];
    if (step.kind == Step::Kind::kSetWeight) weight = step.weight;
    if (step.kind != Step::Kind::kPause) continue;
    v1::PlanStep& out = plan.emplace_back();
    out.set_canary_weight(weight);
    if (step.pause_duration) {
      out.set_duration_seconds(absl::ToInt64Seconds(*step.pause_duration));
    } else {
      out.set_until_promoted(true);
    }
  }
  return plan;
}

PreflightStatus PreflightFromResponse(const v1::PreflightResponse& response,
                                      absl::Time at) {
  auto duration = [](int64_t seconds) {
    return seconds < 0 ? absl::InfiniteDuration() : absl::Seconds(seconds);
  };
  PreflightStatus out;
  out.regression_detected = duration(response.regression_seconds());
  out.not_worse_proven = duration(response.not_worse_seconds());
  out.plan_long_enough = response.regression_within_plan();
  out.message = response.message();
  out.computed_at = at;
  return out;
}

}  // namespace smartcanary
