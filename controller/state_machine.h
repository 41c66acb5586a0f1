#ifndef SMARTCANARY_CONTROLLER_STATE_MACHINE_H_
#define SMARTCANARY_CONTROLLER_STATE_MACHINE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/rollout_spec.h"
#include "controller/rollout_status.h"

// The rollout's step state machine. Pure: values in, decisions out; no I/O
// and no clock reads, so every phase and command is tested in milliseconds.
namespace smartcanary {

// What the reconciler must make true, in this order: traffic first, then the
// status write. Applying a decision twice is harmless, which is what lets a
// restarted canaryd repeat its last decision after a crash.
struct Decision {
  RolloutStatus next;
  // The canary's traffic share to enforce before writing `next`.
  int canary_weight = 0;
  // A new rollout begins: point the canary subset at spec.canaryLabels.
  bool select_canary_labels = false;
  // The rollout completes: the stable subset (subset-level) or the stable
  // Service's selector (host-level) takes the canary's labels.
  bool promote_stable_labels = false;
  // Take these measurements now, record them in `next`'s runs (Record) and
  // decide again; nothing else in this decision is to be applied.
  std::vector<std::string> measure_step;
  std::vector<std::string> measure_background;
  // When to decide again if nothing changes; InfiniteDuration: wait for an
  // event (promote, spec change).
  absl::Duration requeue_after = absl::InfiniteDuration();

  bool wants_measurements() const {
    return !measure_step.empty() || !measure_background.empty();
  }
};

// The metrics of the analyses that apply now, resolved from their templates
// by the caller (reading templates is I/O).
struct ActiveAnalysis {
  std::vector<MetricSpec>
      step;  // the current step's, if it is an analysis step
  std::vector<MetricSpec>
      background;  // spec.analysis's, once its startingStep is reached
};

// Whether the background analysis applies at this status.
bool BackgroundActive(const RolloutSpec& spec, const RolloutStatus& status);

// The next decision. Analyses measure whatever holds the rollout: Failed
// (and Error under onError: rollback) rolls back at once; Inconclusive holds
// it for a person (pause_reason kInconclusive); Error under onError: pause
// holds it until a measurement succeeds (kOutage). Past
// spec.progress_deadline without progress the ProgressDeadlineExceeded
// condition is set, and with progress_deadline_abort the rollout rolls back.
// Measurement decisions also move each run's warm_up_from to when the canary
// began taking its current traffic.
Decision Decide(const RolloutSpec& spec, int64_t generation,
                const RolloutStatus& status, absl::Time now,
                const ActiveAnalysis& analysis = {});

enum class Command { kPromote, kPromoteFull, kAbort, kRetry, kPause, kResume };

const char* CommandName(Command command);

// A person's or CD system's command. Returns FAILED_PRECONDITION, saying why,
// when the command makes no sense in the current phase; the status is then
// left as it was. Resume ends a user's pause or an inconclusive background
// analysis' hold (with a fresh analysis), never an outage hold, which ends
// by itself.
absl::StatusOr<RolloutStatus> ApplyCommand(const RolloutSpec& spec,
                                           const RolloutStatus& status,
                                           Command command);

// Traffic could not be routed as the spec says (missing VirtualService,
// route without the expected destinations): stop on stable, say why.
RolloutStatus Degrade(const RolloutStatus& status, const std::string& reason);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_STATE_MACHINE_H_
