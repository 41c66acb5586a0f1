#ifndef SMARTCANARY_CONTROLLER_KUBE_LEASE_DECISION_H_
#define SMARTCANARY_CONTROLLER_KUBE_LEASE_DECISION_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "controller/kube/lease_record.h"

// Leader election on a Lease with client-go's semantics, as pure functions:
// what to do given what was observed and when. The caller owns the clocks:
// `observed_at` and `now` are this host's monotonic time; the record's own
// timestamps are another host's wall clock and never enter a decision.
namespace smartcanary::kube {

struct LeaseTiming {
  // How long a standby waits, after it last saw the record change, before it
  // takes the lease over. Written into the record for the others to use.
  absl::Duration lease_duration = absl::Seconds(15);
  // How long the leader keeps acting without a successful renew. Shorter
  // than lease_duration, so a cut-off leader stops before anyone can take
  // over (the difference is the margin for writes already in flight).
  absl::Duration renew_deadline = absl::Seconds(10);
  // Pause between attempts to acquire or renew.
  absl::Duration retry_period = absl::Seconds(2);
};

// client-go's checks: all positive, lease_duration > renew_deadline >
// 1.2 x retry_period (the largest jittered retry pause).
absl::Status ValidateTiming(const LeaseTiming& timing);

// The record as last seen, and when it was first seen in this exact form.
struct Observation {
  std::optional<LeaseRecord> record;  // nullopt: no Lease object exists
  absl::Time observed_at = absl::InfinitePast();
};

// Folds a fresh read into the observation: the clock restarts only when the
// record changed (a live holder changes renewTime at every renew).
Observation Observe(const Observation& previous,
                    const std::optional<LeaseRecord>& current, absl::Time now);

enum class LeaseAction {
  kCreate,   // no Lease: create it holding it (POST)
  kRenew,    // ours: write a fresh renewTime (PUT)
  kAcquire,  // released, or unchanged for its duration: take it over (PUT)
  kWait,     // another identity holds a live lease
};

// `default_lease_duration` stands in for a record that declares none.
LeaseAction DecideLease(const Observation& observed, absl::Time now,
                        absl::string_view identity,
                        absl::Duration default_lease_duration);

// When a standby may take the lease over, on its own clock (InfinitePast:
// now; only meaningful while DecideLease says kWait).
absl::Time TakeoverAllowedAt(const Observation& observed,
                             absl::Duration default_lease_duration);

// The record to write for `action` (not kWait) over `current` (nullopt for
// kCreate). `wall_now` is written as acquire/renew time, in microseconds.
LeaseRecord NextRecord(LeaseAction action,
                       const std::optional<LeaseRecord>& current,
                       absl::string_view identity, absl::Time wall_now,
                       absl::Duration lease_duration);

// A graceful leader's last write (client-go ReleaseOnCancel): nobody holds
// it and it lasts one second, so a standby takes it at its next attempt.
LeaseRecord ReleasedRecord(const LeaseRecord& current, absl::Time wall_now);

// Fencing: may a leader whose last successful renew attempt started at
// `last_renew` (monotonic) still act at `now`?
bool StillLeading(absl::Time last_renew, absl::Time now,
                  const LeaseTiming& timing);

}  // namespace smartcanary::kube

#endif  // SMARTCANARY_CONTROLLER_KUBE_LEASE_DECISION_H_
