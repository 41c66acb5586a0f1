#include "controller/state_machine.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace smartcanary {
namespace {

std::string StepLabel(const RolloutSpec& spec, int index) {
  return absl::StrCat("step ", index + 1, "/", spec.steps.size());
}

bool Finished(Phase phase) {
  return phase == Phase::kHealthy || phase == Phase::kDegraded;
}

RolloutStatus AdvanceTo(const RolloutStatus& status, int index) {
  RolloutStatus next = status;
  next.phase = Phase::kProgressing;
  next.current_step_index = index;
  next.pause_started_at.reset();
  return next;
}

}  // namespace

const char* CommandName(Command command) {
  switch (command) {
    case Command::kPromote:
      return "promote";
    case Command::kPromoteFull:
      return "promote --full";
    case Command::kAbort:
      return "abort";
    case Command::kRetry:
      return "retry";
    case Command::kPause:
      return "pause";
    case Command::kResume:
      return "resume";
  }
  return "command";
}

Decision Decide(const RolloutSpec& spec, int64_t generation,
                const RolloutStatus& status, absl::Time now) {
  Decision decision;
  if (status.observed_generation != generation) {
    // A new spec is a new rollout whatever the phase: traffic returns to
    // stable before the canary subset is re-pointed.
    decision.next = RolloutStatus{};
    decision.next.observed_generation = generation;
    decision.next.message = absl::StrCat("rollout of generation ", generation, " started");
    decision.canary_weight = 0;
    decision.select_canary_labels = true;
    decision.requeue_after = absl::ZeroDuration();
    return decision;
  }
  decision.next = status;
  decision.canary_weight = status.canary_weight;
  if (Finished(status.phase)) {
    decision.canary_weight = 0;
    decision.next.canary_weight = 0;
    return decision;
  }
  if (status.paused_by_user) {
    decision.next.phase = Phase::kPaused;
    return decision;
  }
  const int index = status.current_step_index;
  if (index >= static_cast<int>(spec.steps.size())) {
    decision.next = status;
    decision.next.phase = Phase::kHealthy;
    decision.next.current_step_index = static_cast<int>(spec.steps.size());
    decision.next.canary_weight = 0;
    decision.next.pause_started_at.reset();
    decision.next.message = "rollout completed: canary promoted to stable";
    decision.canary_weight = 0;
    decision.promote_stable_labels = spec.traffic_routing.subset_level();
    return decision;
  }
  const Step& step = spec.steps[index];
  if (step.kind == Step::Kind::kSetWeight) {
    decision.next = AdvanceTo(status, index + 1);
    decision.next.canary_weight = step.weight;
    decision.next.message =
        absl::StrCat(StepLabel(spec, index), ": canary weight set to ", step.weight);
    decision.canary_weight = step.weight;
    decision.requeue_after = absl::ZeroDuration();
    return decision;
  }
  // A pause step.
  if (!status.pause_started_at) {
    decision.next.phase = Phase::kPaused;
    decision.next.pause_started_at = now;
    decision.next.message =
        step.pause_duration
            ? absl::StrCat(StepLabel(spec, index), ": paused for ",
                           FormatStepDuration(*step.pause_duration))
            : absl::StrCat(StepLabel(spec, index), ": paused until promoted");
    decision.requeue_after =
        step.pause_duration ? *step.pause_duration : absl::InfiniteDuration();
    return decision;
  }
  decision.next.phase = Phase::kPaused;
  if (!step.pause_duration) return decision;
  const absl::Time ends = *status.pause_started_at + *step.pause_duration;
  if (now < ends) {
    decision.requeue_after = ends - now;
    return decision;
  }
  decision.next = AdvanceTo(status, index + 1);
  decision.next.message = absl::StrCat(StepLabel(spec, index), ": pause ended");
  decision.requeue_after = absl::ZeroDuration();
  return decision;
}

absl::StatusOr<RolloutStatus> ApplyCommand(const RolloutSpec& spec,
                                           const RolloutStatus& status,
                                           Command command) {
  auto refuse = [&](const std::string& why) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot ", CommandName(command), ": rollout is ",
                     PhaseName(status.phase), "; ", why));
  };
  const int steps = static_cast<int>(spec.steps.size());
  RolloutStatus next = status;
  switch (command) {
    case Command::kPromote: {
      if (Finished(status.phase)) return refuse("nothing to promote");
      const int index = status.current_step_index;
      const bool at_pause = index < steps &&
                            spec.steps[index].kind == Step::Kind::kPause &&
                            status.pause_started_at.has_value();
      if (!at_pause && !status.paused_by_user) {
        return refuse("it is not paused (use --full to skip all remaining steps)");
      }
      next = at_pause ? AdvanceTo(status, index + 1) : status;
      next.phase = Phase::kProgressing;
      next.paused_by_user = false;
      next.message = at_pause ? absl::StrCat("step ", index + 1, "/", steps, ": promoted")
                              : "resumed by promote";
      return next;
    }
    case Command::kPromoteFull:
      if (Finished(status.phase)) {
        return refuse(status.phase == Phase::kDegraded ? "use retry first"
                                                       : "already complete");
      }
      next = AdvanceTo(status, steps);
      next.paused_by_user = false;
      next.message = "full promotion requested: skipping remaining steps";
      return next;
    case Command::kAbort:
      if (Finished(status.phase)) return refuse("nothing to abort");
      next.phase = Phase::kDegraded;
      next.canary_weight = 0;
      next.pause_started_at.reset();
      next.paused_by_user = false;
      next.message = absl::StrCat("aborted by user at step ",
                                  std::min(status.current_step_index + 1, steps), "/",
                                  steps, ": traffic returned to stable");
      return next;
    case Command::kRetry:
      if (status.phase != Phase::kDegraded) return refuse("only a Degraded rollout can be retried");
      next = RolloutStatus{};
      next.observed_generation = status.observed_generation;
      next.message = "retry: rollout restarted from step 1";
      return next;
    case Command::kPause:
      if (Finished(status.phase)) return refuse("nothing to pause");
      if (status.paused_by_user) return refuse("already paused by user");
      next.paused_by_user = true;
      next.phase = Phase::kPaused;
      next.message = absl::StrCat("paused by user at step ",
                                  std::min(status.current_step_index + 1, steps), "/", steps);
      return next;
    case Command::kResume:
      if (!status.paused_by_user) {
        return refuse("it was not paused by a user (a pause step ends with promote)");
      }
      next.paused_by_user = false;
      next.phase = Phase::kProgressing;
      next.message = "resumed by user";
      return next;
  }
  return refuse("unknown command");
}

RolloutStatus Degrade(const RolloutStatus& status, const std::string& reason) {
  RolloutStatus next = status;
  next.phase = Phase::kDegraded;
  next.canary_weight = 0;
  next.pause_started_at.reset();
  next.paused_by_user = false;
  next.message = reason;
  return next;
}

}  // namespace smartcanary
