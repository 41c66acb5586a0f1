#include "controller/rollout_events.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace smartcanary {
namespace {

bool Finished(Phase phase) {
  return phase == Phase::kHealthy || phase == Phase::kDegraded;
}

std::string RunName(const AnalysisRun& run) {
  return run.step_index < 0
             ? "background analysis"
             : absl::StrCat("step ", run.step_index + 1, " analysis");
}

// A verdict with its evidence: every metric's counts and last measurement.
std::string Evidence(const AnalysisRun& run) {
  std::vector<std::string> parts;
  for (const MetricRun& m : run.metrics) {
    parts.push_back(absl::StrCat(
        MetricLabel(m), " ", RunPhaseName(m.phase), " (✔", m.successful, " ✖",
        m.failed, " ?", m.inconclusive, " ⚠", m.errors, ")",
        m.recent.empty() ? "" : ": " + m.recent.back().message));
  }
  return absl::StrJoin(parts, "; ");
}

void AnalysisEvents(const std::optional<AnalysisRun>& before,
                    const std::optional<AnalysisRun>& after,
                    std::vector<RolloutEvent>& events) {
  if (!after) return;
  const bool same_run = before && before->step_index == after->step_index &&
                        before->started_at == after->started_at;
  if (!same_run) {
    events.push_back({"analysis", absl::StrCat(RunName(*after), " started"),
                      RunPhaseName(after->phase)});
    return;
  }
  // Each new measurement that is not a success is worth a mark.
  for (const MetricRun& m : after->metrics) {
    const MetricRun* old = nullptr;
    for (const MetricRun& b : before->metrics) {
      if (b.name == m.name) old = &b;
    }
    if (old == nullptr || m.measured == old->measured || m.recent.empty())
      continue;
    const MeasurementRecord& last = m.recent.back();
    if (last.phase != MeasurementPhase::kSuccessful) {
      events.push_back(
          {"analysis",
           absl::StrCat(RunName(*after), ": ", MetricLabel(m), " measurement ",
                        RecordPhaseName(last), ": ", last.message)});
    }
  }
  // A run back from an outage (Error) to Running is worth a mark too.
  if (after->phase != before->phase && (after->phase != RunPhase::kRunning ||
                                        before->phase == RunPhase::kError)) {
    events.push_back(
        {"analysis",
         absl::StrCat(RunName(*after), " ", RunPhaseName(after->phase), ": ",
                      Evidence(*after)),
         RunPhaseName(after->phase)});
  }
}

}  // namespace

std::vector<RolloutEvent> EventsBetween(const RolloutStatus& before,
                                        const RolloutStatus& after,
                                        std::optional<Command> command) {
  std::vector<RolloutEvent> events;
  if (after.observed_generation != before.observed_generation) {
    events.push_back({"started", after.message});
  }
  if (command) {
    static const char* kKinds[] = {"promoted", "promoted", "aborted",
                                   "retried",  "paused",   "resumed"};
    events.push_back({kKinds[static_cast<int>(*command)], after.message});
  }
  AnalysisEvents(before.step_run, after.step_run, events);
  AnalysisEvents(before.background_run, after.background_run, events);
  if (after.canary_weight != before.canary_weight) {
    events.push_back(
        {"weight", absl::StrCat("canary weight ", before.canary_weight, " → ",
                                after.canary_weight, " (stable ",
                                100 - after.canary_weight, ")")});
  }
  for (const std::string& warning : after.warnings) {
    if (std::find(before.warnings.begin(), before.warnings.end(), warning) ==
        before.warnings.end())
      events.push_back({"warning", warning});
  }
  if (after.preflight &&
      (!before.preflight ||
       before.preflight->generation != after.preflight->generation ||
       PreflightResultName(*before.preflight) !=
           PreflightResultName(*after.preflight))) {
    // Once per verdict, not once per refresh of the same one.
    events.push_back({"preflight", after.preflight->message,
                      PreflightResultName(*after.preflight)});
  }
  for (const RolloutCondition& condition : after.conditions) {
    if (before.Condition(condition.reason) == nullptr)
      events.push_back({"progress-deadline", condition.message});
  }
  const bool held_before = before.pause_reason != PauseReason::kNone;
  const bool held_after = after.pause_reason != PauseReason::kNone;
  if (!command && after.phase == Phase::kPaused &&
      before.phase == Phase::kPaused &&
      after.pause_reason != before.pause_reason && held_after) {
    // Held by an analysis while a pause step already had it paused.
    events.push_back({"paused", after.message});
  }
  if (!command && held_before && !held_after && !Finished(after.phase)) {
    events.push_back(
        {"resumed", absl::StrCat("hold (", PauseReasonName(before.pause_reason),
                                 ") ended: ", after.message)});
  }
  if (!command && after.phase != before.phase) {
    if (after.phase == Phase::kPaused)
      events.push_back({"paused", after.message});
    if (after.phase == Phase::kHealthy)
      events.push_back({"completed", after.message});
    if (after.phase == Phase::kDegraded)
      events.push_back({"rolled-back", after.message});
  }
  return events;
}

}  // namespace smartcanary
