#include "controller/state_machine.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controller/analysis/submit_warnings.h"
#include "controller/preflight_gate.h"

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
  // Both modes: the stable subset, or the stable Service (host-level), takes
  // the new version before the weights return to stable 100.
  decision.promote_stable_labels = true;
  return decision;
}

// Every comparative metric of the background analysis has proven the
// canary not worse, in its latest measurement.
bool ProvenNotWorse(const RolloutStatus& status,
                    const std::vector<MetricSpec>& background) {
  if (!status.background_run) return false;
  int comparative = 0;
  for (const MetricSpec& spec : background) {
    // A dry-run metric never moves the rollout, not even ahead.
    if (!spec.query.has_comparative() || spec.dry_run) continue;
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

// The start of the canary's current stretch of traffic: nullopt when it has
// none now, InfinitePast when the timeline does not say (an older status).
std::optional<absl::Time> TrafficSince(const RolloutStatus& status) {
  if (status.canary_weight == 0) return std::nullopt;
  absl::Time since = absl::InfinitePast();
  for (auto it = status.weight_history.rbegin();
       it != status.weight_history.rend() && it->canary_weight > 0; ++it) {
    since = it->at;
  }
  return since;
}

// Before measuring: no data cannot be judged before the canary's series can
// exist, so the warm-up runs from the later of the run's start and the
// canary's taking traffic; with no traffic at all, from now.
void AnchorWarmUp(const RolloutStatus& status, AnalysisRun& run,
                  absl::Time now) {
  const std::optional<absl::Time> since = TrafficSince(status);
  run.warm_up_from = since ? std::max(run.started_at, *since) : now;
}

Decision MeasureStep(const RolloutStatus& status,
                     std::vector<std::string> metrics, absl::Time now) {
  RolloutStatus next = status;
  AnchorWarmUp(status, *next.step_run, now);
  return Measure(next, std::move(metrics), {});
}

Decision MeasureBackground(const RolloutStatus& status,
                           std::vector<std::string> metrics, absl::Time now) {
  RolloutStatus next = status;
  AnchorWarmUp(status, *next.background_run, now);
  return Measure(next, {}, std::move(metrics));
}

bool AtAnalysisStep(const RolloutSpec& spec, const RolloutStatus& status) {
  const int index = status.current_step_index;
  return index < static_cast<int>(spec.steps.size()) &&
         spec.steps[index].kind == Step::Kind::kAnalysis;
}

// The current analysis step's run, if it has started.
const AnalysisRun* CurrentStepRun(const RolloutSpec& spec,
                                  const RolloutStatus& status) {
  if (!AtAnalysisStep(spec, status) || !status.step_run ||
      status.step_run->step_index != status.current_step_index)
    return nullptr;
  return &*status.step_run;
}

Decision DecideAnalysisStep(const RolloutSpec& spec,
                            const RolloutStatus& status,
                            const std::vector<MetricSpec>& metrics,
                            absl::Time now) {
  const int index = status.current_step_index;
  const AnalysisRun* run = CurrentStepRun(spec, status);
  if (run == nullptr) {
    RolloutStatus next = status;
    next.step_run = StartRun(index, metrics, now);
    AddWarnings(
        next.warnings,
        AnalysisWarnings(absl::StrCat("spec.steps[", index, "].analysis"),
                         metrics, /*background=*/false));
    next.message = absl::StrCat(StepLabel(spec, index), ": analysis started");
    return Hold(next, absl::ZeroDuration());
  }
  // Failed, Error and Inconclusive were dealt with before the steps (they
  // roll back or hold the rollout whatever step it is at).
  if (run->phase == RunPhase::kSuccessful) {
    Decision decision =
        Hold(AdvanceTo(status, index + 1), absl::ZeroDuration());
    decision.next.message =
        absl::StrCat(StepLabel(spec, index), ": analysis successful");
    return decision;
  }
  const DueMeasurements due = Due(metrics, *run, now);
  if (!due.metrics.empty()) return MeasureStep(status, due.metrics, now);
  Decision decision = Hold(status, due.next_in);
  decision.next.phase = Phase::kProgressing;
  decision.next.message =
      absl::StrCat(StepLabel(spec, index), ": analysis ", run->message);
  return decision;
}

struct AnalysisHold {
  PauseReason reason = PauseReason::kNone;
  std::string message;
};

// What the analyses' verdicts hold the rollout for: Inconclusive waits for a
// person; an Error under onError: pause waits for a measurement to succeed.
// Failed, and Error under onError: rollback, never get here.
AnalysisHold HoldFor(const RolloutSpec& spec, const RolloutStatus& status) {
  AnalysisHold hold;
  auto consider = [&](const AnalysisRun& run, const AnalysisRef& ref,
                      const std::string& label) {
    if (run.phase == RunPhase::kInconclusive) {
      hold = {PauseReason::kInconclusive,
              absl::StrCat(label, " inconclusive: ", run.message,
                           "; measuring on (a failure still rolls back); "
                           "resume or promote to continue, or abort")};
    } else if (run.phase == RunPhase::kError &&
               ref.on_error == OnError::kPause &&
               hold.reason == PauseReason::kNone) {
      hold = {
          PauseReason::kOutage,
          absl::StrCat(label, " cannot measure (onError: pause): ", run.message,
                       "; traffic held at canary ", status.canary_weight,
                       "%, measuring on; resumes by itself once a "
                       "measurement succeeds")};
    }
  };
  if (BackgroundActive(spec, status) && status.background_run) {
    consider(*status.background_run, spec.background_analysis->analysis,
             "background analysis");
  }
  if (const AnalysisRun* run = CurrentStepRun(spec, status)) {
    consider(
        *run, spec.steps[status.current_step_index].analysis,
        absl::StrCat(StepLabel(spec, status.current_step_index), " analysis"));
  }
  return hold;
}

// A verdict that rolls back whatever holds the rollout, or nullopt.
std::optional<std::string> RollBackReason(const RolloutSpec& spec,
                                          const RolloutStatus& status) {
  auto ends = [](const AnalysisRun& run, const AnalysisRef& ref) {
    return run.phase == RunPhase::kFailed ||
           (run.phase == RunPhase::kError &&
            ref.on_error == OnError::kRollback);
  };
  if (BackgroundActive(spec, status) && status.background_run &&
      ends(*status.background_run, spec.background_analysis->analysis)) {
    return absl::StrCat("background analysis: ",
                        status.background_run->message);
  }
  if (const AnalysisRun* run = CurrentStepRun(spec, status);
      run != nullptr &&
      ends(*run, spec.steps[status.current_step_index].analysis)) {
    return absl::StrCat(StepLabel(spec, status.current_step_index),
                        " analysis: ", run->message);
  }
  return std::nullopt;
}

bool AtPauseStep(const RolloutSpec& spec, const RolloutStatus& status) {
  const int index = status.current_step_index;
  return index < static_cast<int>(spec.steps.size()) &&
         spec.steps[index].kind == Step::Kind::kPause;
}

// Whether the progress deadline's clock runs: not while a person holds the
// rollout or a pause step does, unless an analysis holds it.
bool DeadlineClockRuns(const RolloutSpec& spec, const RolloutStatus& status) {
  if (Finished(status.phase)) return false;
  switch (status.pause_reason) {
    case PauseReason::kUser:
      return false;
    case PauseReason::kInconclusive:
    case PauseReason::kOutage:
    case PauseReason::kPreflight:
      return true;
    case PauseReason::kNone:
      break;
  }
  return !AtPauseStep(spec, status);
}

// Progress resets the deadline's clock and clears its condition: a new step,
// and any change of whether the clock runs (entering or leaving a pause).
void TrackProgress(const RolloutSpec& spec, const RolloutStatus& before,
                   RolloutStatus& after, absl::Time now) {
  const bool progressed =
      !after.progress_at ||
      after.current_step_index != before.current_step_index ||
      DeadlineClockRuns(spec, after) != DeadlineClockRuns(spec, before) ||
      (before.phase == Phase::kPaused && after.phase == Phase::kProgressing);
  if (!progressed || Finished(after.phase)) return;
  after.progress_at = now;
  std::erase_if(after.conditions, [](const RolloutCondition& c) {
    return c.reason == kProgressDeadlineExceeded;
  });
}

std::string StuckText(const RolloutSpec& spec, const RolloutStatus& status) {
  return absl::StrCat(
      "no progress for ", FormatStepDuration(*spec.progress_deadline),
      " (progressDeadlineSeconds) at ",
      StepLabel(spec, std::min<int>(status.current_step_index,
                                    static_cast<int>(spec.steps.size()) - 1)),
      ", ", PhaseName(status.phase),
      status.pause_reason != PauseReason::kNone
          ? absl::StrCat(" (", PauseReasonName(status.pause_reason), ")")
          : "",
      ": ", status.message);
}

// The part of Decide for a rollout that has started and not finished.
Decision DecideActive(const RolloutSpec& spec, const RolloutStatus& status,
                      absl::Time now, const ActiveAnalysis& analysis) {
  const bool background = BackgroundActive(spec, status);
  if (background && !status.background_run) {
    RolloutStatus next = status;
    next.background_run = StartRun(-1, analysis.background, now);
    AddWarnings(next.warnings,
                AnalysisWarnings("spec.analysis", analysis.background,
                                 /*background=*/true));
    return Hold(next, absl::ZeroDuration());
  }
  // The analyses watch every step, pauses and holds included: a bad canary
  // is rolled back even while a person or an inconclusive verdict holds it.
  if (auto why = RollBackReason(spec, status))
    return RollBack(status, *why, now);
  RolloutStatus current = status;
  if (status.pause_reason == PauseReason::kPreflight &&
      !PreflightHoldMessage(spec, status)) {
    // A later pre-flight passed (or a person promoted): the first weight
    // goes out in this same decision.
    current.pause_reason = PauseReason::kNone;
    current.phase = Phase::kProgressing;
    current.message = "pre-flight hold lifted: resuming";
  }
  if (current.pause_reason != PauseReason::kUser &&
      current.pause_reason != PauseReason::kPreflight) {
    const AnalysisHold hold = HoldFor(spec, status);
    if (hold.reason != status.pause_reason) {
      current.pause_reason = hold.reason;
      if (hold.reason != PauseReason::kNone) {
        current.phase = Phase::kPaused;
        current.message = hold.message;
        return Hold(current, absl::ZeroDuration());
      }
      // The hold has ended (the outage is over, or the inconclusive verdict
      // is gone): carry on with the steps in this same decision.
      current.phase = Phase::kProgressing;
      current.message =
          absl::StrCat("analysis measuring again after ",
                       PauseReasonName(status.pause_reason), ": resuming");
    }
  }
  absl::Duration next_measurement = absl::InfiniteDuration();
  if (background) {
    const DueMeasurements due =
        Due(analysis.background, *current.background_run, now);
    if (!due.metrics.empty())
      return MeasureBackground(current, due.metrics, now);
    next_measurement = due.next_in;
  }
  if (current.pause_reason != PauseReason::kNone) {
    // Held: the step's analysis measures on too.
    if (const AnalysisRun* run = CurrentStepRun(spec, current)) {
      const DueMeasurements due = Due(analysis.step, *run, now);
      if (!due.metrics.empty()) return MeasureStep(current, due.metrics, now);
      next_measurement = std::min(next_measurement, due.next_in);
    }
    Decision decision = Hold(current, next_measurement);
    decision.next.phase = Phase::kPaused;
    return decision;
  }
  const int index = current.current_step_index;
  if (index >= static_cast<int>(spec.steps.size())) {
    if (current.background_run &&
        Conclude(*current.background_run).phase != RunPhase::kSuccessful) {
      Decision decision = Hold(current, absl::ZeroDuration());
      decision.next.phase = Phase::kPaused;
      decision.next.pause_reason = PauseReason::kInconclusive;
      decision.next.background_run = Conclude(*current.background_run);
      decision.next.message =
          absl::StrCat("not completing: background analysis ",
                       decision.next.background_run->message,
                       "; measuring on: completes once every metric has "
                       "measured a success; resume to restart it, or abort");
      return decision;
    }
    return Complete(spec, current, now);
  }
  const Step& step = spec.steps[index];
  Decision decision;
  switch (step.kind) {
    case Step::Kind::kSetWeight:
      if (step.weight > 0) {
        if (auto held = PreflightHoldMessage(spec, current)) {
          // Re-decided whenever the reconciler writes a new pre-flight.
          decision = Hold(current, next_measurement);
          decision.next.phase = Phase::kPaused;
          decision.next.pause_reason = PauseReason::kPreflight;
          decision.next.message = *held;
          return decision;
        }
      }
      decision = Hold(AdvanceTo(current, index + 1), absl::ZeroDuration());
      decision.next.canary_weight = step.weight;
      decision.next.message = absl::StrCat(
          StepLabel(spec, index), ": canary weight set to ", step.weight);
      RecordWeight(decision.next, step.weight, now);
      decision.canary_weight = step.weight;
      return decision;
    case Step::Kind::kPause:
      decision = DecidePause(spec, step, current, now, analysis.background);
      break;
    case Step::Kind::kAnalysis:
      decision = DecideAnalysisStep(spec, current, analysis.step, now);
      break;
  }
  if (!decision.wants_measurements()) {
    decision.requeue_after = std::min(decision.requeue_after, next_measurement);
  }
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
    decision.next.progress_at = now;
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
  if (spec.progress_deadline && status.progress_at &&
      DeadlineClockRuns(spec, status) &&
      now - *status.progress_at > *spec.progress_deadline) {
    if (spec.progress_deadline_abort) {
      RolloutStatus stuck = status;
      stuck.conditions.push_back({"Progressing", "False",
                                  kProgressDeadlineExceeded,
                                  StuckText(spec, status), now});
      return RollBack(
          stuck,
          absl::StrCat("progress deadline exceeded: ", StuckText(spec, status)),
          now);
    }
    if (status.Condition(kProgressDeadlineExceeded) == nullptr) {
      RolloutStatus marked = status;
      marked.conditions.push_back({"Progressing", "False",
                                   kProgressDeadlineExceeded,
                                   StuckText(spec, status), now});
      return Hold(marked, absl::ZeroDuration());
    }
  }
  Decision decision = DecideActive(spec, status, now, analysis);
  if (decision.wants_measurements()) return decision;
  TrackProgress(spec, status, decision.next, now);
  // Look again when the deadline would pass, unless it already has.
  if (spec.progress_deadline && decision.next.progress_at &&
      DeadlineClockRuns(spec, decision.next) &&
      decision.next.Condition(kProgressDeadlineExceeded) == nullptr) {
    const absl::Duration left =
        *decision.next.progress_at + *spec.progress_deadline - now;
    decision.requeue_after =
        std::min(decision.requeue_after,
                 std::max(left, absl::ZeroDuration()) + absl::Milliseconds(1));
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
  const bool background_inconclusive =
      status.background_run &&
      status.background_run->phase == RunPhase::kInconclusive;
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
      if (!skips_step && status.pause_reason != PauseReason::kUser &&
          status.pause_reason != PauseReason::kInconclusive &&
          status.pause_reason != PauseReason::kPreflight) {
        return refuse(
            status.pause_reason == PauseReason::kOutage
                ? "it is held by an analysis outage (onError: pause) and "
                  "resumes by itself once a measurement succeeds (use --full "
                  "to skip all remaining steps, or abort)"
                : "it is not paused (use --full to skip all remaining steps)");
      }
      next = skips_step ? AdvanceTo(status, index + 1) : status;
      next.phase = Phase::kProgressing;
      next.pause_reason = PauseReason::kNone;
      restart_inconclusive_background();
      next.message = skips_step ? absl::StrCat("step ", index + 1, "/", steps,
                                               ": promoted")
                                : "resumed by promote";
      if (status.pause_reason == PauseReason::kPreflight) {
        // A person's word overrides enforce for this generation.
        if (next.preflight) next.preflight->overridden = true;
        next.message = "promoted past the pre-flight hold";
      }
      return next;
    }
    case Command::kPromoteFull:
      if (Finished(status.phase)) {
        return refuse(status.phase == Phase::kDegraded ? "use retry first"
                                                       : "already complete");
      }
      next = AdvanceTo(status, steps);
      next.pause_reason = PauseReason::kNone;
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
      if (status.paused_by_user()) return refuse("already paused by user");
      next.pause_reason = PauseReason::kUser;
      next.phase = Phase::kPaused;
      next.message = absl::StrCat("paused by user at step ",
                                  std::min(index + 1, steps), "/", steps);
      return next;
    case Command::kResume:
      if (status.pause_reason == PauseReason::kOutage) {
        return refuse(
            "it is held by an analysis outage (onError: pause) and resumes by "
            "itself once a measurement succeeds; abort to roll back");
      }
      if (status.pause_reason == PauseReason::kPreflight) {
        return refuse(
            "it is held by the pre-flight (spec.preflight: enforce) and "
            "resumes by itself once a pre-flight passes: promote to proceed "
            "anyway, or abort");
      }
      if (status.pause_reason == PauseReason::kInconclusive &&
          !background_inconclusive) {
        return refuse(
            "the step analysis is inconclusive: promote to skip it, or abort");
      }
      if (status.pause_reason == PauseReason::kNone) {
        return refuse(
            "it was not paused by a user (a pause step ends with promote)");
      }
      next.pause_reason = PauseReason::kNone;
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
  next.pause_reason = PauseReason::kNone;
  next.message = reason;
  return next;
}

}  // namespace smartcanary
