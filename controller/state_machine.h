#ifndef SMARTCANARY_CONTROLLER_STATE_MACHINE_H_
#define SMARTCANARY_CONTROLLER_STATE_MACHINE_H_

#include <cstdint>

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
  // The rollout completes: the stable subset takes the canary's labels.
  bool promote_stable_labels = false;
  // When to decide again if nothing changes; InfiniteDuration: wait for an
  // event (promote, spec change).
  absl::Duration requeue_after = absl::InfiniteDuration();
};

Decision Decide(const RolloutSpec& spec, int64_t generation,
                const RolloutStatus& status, absl::Time now);

enum class Command { kPromote, kPromoteFull, kAbort, kRetry, kPause, kResume };

const char* CommandName(Command command);

// A person's or CD system's command. Returns FAILED_PRECONDITION, saying why,
// when the command makes no sense in the current phase; the status is then
// left as it was.
absl::StatusOr<RolloutStatus> ApplyCommand(const RolloutSpec& spec,
                                           const RolloutStatus& status,
                                           Command command);

// Traffic could not be routed as the spec says (missing VirtualService,
// route without the expected destinations): stop on stable, say why.
RolloutStatus Degrade(const RolloutStatus& status, const std::string& reason);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_STATE_MACHINE_H_
