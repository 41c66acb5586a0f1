#include "controller/state_machine.h"

#include <algorithm>

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

// Appends to the weight timeline when the canary's share changes.
void RecordWeight(RolloutStatus& next, int weight, absl::Time now) {
  if (!next.weight_history.empty() &&
      next.weight_history.back().canary_weight == weight)
    return;
  next.weight_history.push_back({now, weight});
  if (next.weight_history.size() > kKeptWeightChanges) {
    next.weight_history.erase(next.weight_history.begin());
  }
}

Decision RollBack(const RolloutStatus& status, const std::string& why,
                  absl::Time now) {
  Decision decision;
  decision.next = Degrade(status, absl::StrCat("rolled back: ", why));
  RecordWeight(decision.next, 0, now);
  decision.canary_weight = 0;
  return decision;
}

Decision Hold(const RolloutStatus& status, absl::Duration requeue) {
  Decision decision;
  decision.next = status;
  decision.canary_weight = status.canary_weight;
  decision.requeue_after = requeue;
  return decision;
}

Decision Measure(const RolloutStatus& next, std::vector<std::string> step,
                 std::vector<std::string> background) {
  Decision decision = Hold(next, absl::ZeroDuration());
  decision.measure_step = std::move(step);
  decision.measure_background = std::move(background);
  return decision;
}

Decision Complete(const RolloutSpec& spec, const RolloutStatus& status,
                  absl::Time now) {
  Decision decision;
  decision.next = status;
  decision.next.phase = Phase::kHealthy;
  decision.next.current_step_index = static_cast<int>(spec.steps.size());
  decision.next.canary_weight = 0;
  decision.next.pause_started_at.reset();
  decision.next.message = "rollout completed: canary promoted to stable";
  if (decision.next.background_run)
    decision.next.background_run = Conclude(*decision.next.background_run);
  RecordWeight(decision.next, 0, now);
  decision.canary_weight = 0;
  decision.promote_stable_labels = spec.traffic_routing.subset_level();
  return decision;
}

// Every comparative metric of the background analysis has proven the
// canary not worse, in its latest measurement.
bool ProvenNotWorse(const RolloutStatus& status,
                    const std::vector<MetricSpec>& background) {
  if (!status.background_run) return false;
  int comparative = 0;
  for (const MetricSpec& spec : background) {
    if (!spec.query.has_comparative()) continue;
    ++comparative;
    const MetricRun* run = nullptr;
    for (const MetricRun& m : status.background_run->metrics) {
      if (m.name == spec.name) run = &m;
    }
    if (run == nullptr || run->recent.empty() || !run->recent.back().not_worse)
      return false;
  }
  return comparative > 0;
}

Decision DecidePause(const RolloutSpec& spec, const Step& step,
                     const RolloutStatus& status, absl::Time now,
                     const std::vector<MetricSpec>& background) {
  const int index = status.current_step_index;
  Decision decision = Hold(status, absl::InfiniteDuration());
  decision.next.phase = Phase::kPaused;
  if (!status.pause_started_at) {
    decision.next.pause_started_at = now;
    decision.next.message =
        step.pause_duration
            ? absl::StrCat(StepLabel(spec, index), ": paused for ",
                           FormatStepDuration(*step.pause_duration))
            : absl::StrCat(StepLabel(spec, index), ": paused until promoted");
    if (step.pause_duration) decision.requeue_after = *step.pause_duration;
    return decision;
  }
  if (!step.pause_duration) return decision;
  const absl::Time ends = *status.pause_started_at + *step.pause_duration;
  if (now < ends && spec.early_promotion &&
      ProvenNotWorse(status, background)) {
    decision = Hold(AdvanceTo(status, index + 1), absl::ZeroDuration());
    decision.next.message =
        absl::StrCat(StepLabel(spec, index), ": pause ended ",
                     FormatStepDuration(ends - now),
                     " early: the canary is proven not worse");
    return decision;
  }
  if (now < ends) {
    decision.requeue_after = ends - now;
    return decision;
  }
  decision = Hold(AdvanceTo(status, index + 1), absl::ZeroDuration());
  decision.next.message = absl::StrCat(StepLabel(spec, index), ": pause ended");
  return decision;
}

Decision DecideAnalysisStep(const RolloutSpec& spec,
                            const RolloutStatus& status,
                            const std::vector<MetricSpec>& metrics,
                            absl::Time now) {
  const int index = status.current_step_index;
  if (!status.step_run || status.step_run->step_index != index) {
    RolloutStatus next = status;
    next.step_run = StartRun(index, metrics, now);
    next.message = absl::StrCat(StepLabel(spec, index), ": analysis started");
    return Hold(next, absl::ZeroDuration());
  }
  const AnalysisRun& run = *status.step_run;
  switch (run.phase) {
    case RunPhase::kSuccessful: {
      Decision decision =
          Hold(AdvanceTo(status, index + 1), absl::ZeroDuration());
      decision.next.message =
          absl::StrCat(StepLabel(spec, index), ": analysis successful");
      return decision;
    }
    case RunPhase::kFailed:
    case RunPhase::kError:
      return RollBack(
          status,
          absl::StrCat(StepLabel(spec, index), " analysis: ", run.message),
          now);
    case RunPhase::kInconclusive: {
      Decision decision = Hold(status, absl::InfiniteDuration());
      decision.next.phase = Phase::kPaused;
      decision.next.message = absl::StrCat(
          StepLabel(spec, index), " analysis inconclusive: ", run.message,
          "; promote to continue or abort");
      return decision;
    }
    case RunPhase::kRunning:
      break;
  }
  const DueMeasurements due = Due(metrics, run, now);
  if (!due.metrics.empty()) return Measure(status, due.metrics, {});
  Decision decision = Hold(status, due.next_in);
  decision.next.phase = Phase::kProgressing;
  decision.next.message =
      absl::StrCat(StepLabel(spec, index), ": analysis ", run.message);
  return decision;
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

bool BackgroundActive(const RolloutSpec& spec, const RolloutStatus& status) {
  return spec.background_analysis && !Finished(status.phase) &&
         status.current_step_index >= spec.background_analysis->starting_step;
}

Decision Decide(const RolloutSpec& spec, int64_t generation,
                const RolloutStatus& status, absl::Time now,
                const ActiveAnalysis& analysis) {
  if (status.observed_generation != generation) {
    // A new spec is a new rollout whatever the phase: traffic returns to
    // stable before the canary subset is re-pointed.
    Decision decision;
    decision.next.observed_generation = generation;
    decision.next.message =
        absl::StrCat("rollout of generation ", generation, " started");
    RecordWeight(decision.next, 0, now);
    decision.canary_weight = 0;
    decision.select_canary_labels = true;
    decision.requeue_after = absl::ZeroDuration();
    return decision;
  }
  if (Finished(status.phase)) {
    Decision decision = Hold(status, absl::InfiniteDuration());
    decision.canary_weight = 0;
    decision.next.canary_weight = 0;
    return decision;
  }
  // The background analysis watches every step, pauses included: a bad
  // canary is rolled back even while a person holds the rollout.
  absl::Duration background_next = absl::InfiniteDuration();
  if (BackgroundActive(spec, status)) {
    if (!status.background_run) {
      RolloutStatus next = status;
      next.background_run = StartRun(-1, analysis.background, now);
      return Hold(next, absl::ZeroDuration());
    }
    const AnalysisRun& run = *status.background_run;
    if (run.phase == RunPhase::kFailed || run.phase == RunPhase::kError) {
      return RollBack(status,
                      absl::StrCat("background analysis: ", run.message), now);
    }
    if (run.phase == RunPhase::kInconclusive && !status.paused_by_user) {
      Decision decision = Hold(status, absl::InfiniteDuration());
      decision.next.phase = Phase::kPaused;
      decision.next.paused_by_user = true;
      decision.next.message =
          absl::StrCat("background analysis inconclusive: ", run.message,
                       "; resume to continue or abort");
      return decision;
    }
    const DueMeasurements due = Due(analysis.background, run, now);
    if (!due.metrics.empty()) return Measure(status, {}, due.metrics);
    background_next = due.next_in;
  }
  if (status.paused_by_user) {
    Decision decision = Hold(status, background_next);
    decision.next.phase = Phase::kPaused;
    return decision;
  }
  const int index = status.current_step_index;
  if (index >= static_cast<int>(spec.steps.size())) {
    if (status.background_run &&
        Conclude(*status.background_run).phase != RunPhase::kSuccessful) {
      Decision decision = Hold(status, absl::InfiniteDuration());
      decision.next.phase = Phase::kPaused;
      decision.next.paused_by_user = true;
      decision.next.background_run = Conclude(*status.background_run);
      decision.next.message =
          absl::StrCat("not completing: background analysis ",
                       decision.next.background_run->message,
                       "; resume to measure again, or abort");
      return decision;
    }
    return Complete(spec, status, now);
  }
  const Step& step = spec.steps[index];
  Decision decision;
  switch (step.kind) {
    case Step::Kind::kSetWeight:
      decision = Hold(AdvanceTo(status, index + 1), absl::ZeroDuration());
      decision.next.canary_weight = step.weight;
      decision.next.message = absl::StrCat(
          StepLabel(spec, index), ": canary weight set to ", step.weight);
      RecordWeight(decision.next, step.weight, now);
      decision.canary_weight = step.weight;
      return decision;
    case Step::Kind::kPause:
      decision = DecidePause(spec, step, status, now, analysis.background);
      break;
    case Step::Kind::kAnalysis:
      decision = DecideAnalysisStep(spec, status, analysis.step, now);
      break;
  }
  if (!decision.wants_measurements()) {
    decision.requeue_after = std::min(decision.requeue_after, background_next);
  }
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
  const int index = status.current_step_index;
  const bool in_range = index < steps;
  const bool at_pause = in_range &&
                        spec.steps[index].kind == Step::Kind::kPause &&
                        status.pause_started_at.has_value();
  const bool at_inconclusive_analysis =
      in_range && spec.steps[index].kind == Step::Kind::kAnalysis &&
      status.step_run && status.step_run->step_index == index &&
      status.step_run->phase == RunPhase::kInconclusive;
  RolloutStatus next = status;
  // A person who resumes past an inconclusive background analysis asks for
  // a fresh one, not the same verdict again.
  auto restart_inconclusive_background = [&] {
    if (next.background_run &&
        next.background_run->phase == RunPhase::kInconclusive) {
      next.background_run.reset();
    }
  };
  switch (command) {
    case Command::kPromote: {
      if (Finished(status.phase)) return refuse("nothing to promote");
      const bool skips_step = at_pause || at_inconclusive_analysis;
      if (!skips_step && !status.paused_by_user) {
        return refuse(
            "it is not paused (use --full to skip all remaining steps)");
      }
      next = skips_step ? AdvanceTo(status, index + 1) : status;
      next.phase = Phase::kProgressing;
      next.paused_by_user = false;
      restart_inconclusive_background();
      next.message = skips_step ? absl::StrCat("step ", index + 1, "/", steps,
                                               ": promoted")
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
      restart_inconclusive_background();
      next.message = "full promotion requested: skipping remaining steps";
      return next;
    case Command::kAbort:
      if (Finished(status.phase)) return refuse("nothing to abort");
      next =
          Degrade(status, absl::StrCat("aborted by user at step ",
                                       std::min(index + 1, steps), "/", steps,
                                       ": traffic returned to stable"));
      return next;
    case Command::kRetry:
      if (status.phase != Phase::kDegraded)
        return refuse("only a Degraded rollout can be retried");
      next = RolloutStatus{};
      next.observed_generation = status.observed_generation;
      next.weight_history = status.weight_history;
      next.message = "retry: rollout restarted from step 1";
      return next;
    case Command::kPause:
      if (Finished(status.phase)) return refuse("nothing to pause");
      if (status.paused_by_user) return refuse("already paused by user");
      next.paused_by_user = true;
      next.phase = Phase::kPaused;
      next.message = absl::StrCat("paused by user at step ",
                                  std::min(index + 1, steps), "/", steps);
      return next;
    case Command::kResume:
      if (!status.paused_by_user) {
        return refuse(
            "it was not paused by a user (a pause step ends with promote)");
      }
      next.paused_by_user = false;
      next.phase = Phase::kProgressing;
      restart_inconclusive_background();
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
