#include "controller/kube/lease_decision.h"

#include "absl/strings/str_cat.h"

namespace smartcanary::kube {
namespace {

// client-go's JitterFactor: acquire attempts pause up to 1.2 x retry_period.
constexpr double kMaxJitter = 1.2;

absl::Time Microseconds(absl::Time t) {
  return absl::FromUnixMicros(absl::ToUnixMicros(t));
}

absl::Duration DurationOf(const LeaseRecord& record,
                          absl::Duration default_lease_duration) {
  // A record declaring no duration is not taken as expired at once (as
  // client-go would): waiting our own duration is the safe reading.
  return record.lease_duration_seconds > 0
             ? absl::Seconds(record.lease_duration_seconds)
             : default_lease_duration;
}

}  // namespace

absl::Status ValidateTiming(const LeaseTiming& timing) {
  if (timing.lease_duration <= absl::ZeroDuration() ||
      timing.renew_deadline <= absl::ZeroDuration() ||
      timing.retry_period <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "lease duration, renew deadline and retry period must be positive");
  }
  if (timing.lease_duration <= timing.renew_deadline) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lease duration (", absl::FormatDuration(timing.lease_duration),
        ") must be longer than the renew deadline (",
        absl::FormatDuration(timing.renew_deadline), ")"));
  }
  if (timing.renew_deadline <= kMaxJitter * timing.retry_period) {
    return absl::InvalidArgumentError(absl::StrCat(
        "renew deadline (", absl::FormatDuration(timing.renew_deadline),
        ") must be longer than ", kMaxJitter, " x the retry period (",
        absl::FormatDuration(timing.retry_period), ")"));
  }
  if (timing.lease_duration < absl::Seconds(1) ||
      timing.lease_duration % absl::Seconds(1) != absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "lease duration must be whole seconds (leaseDurationSeconds)");
  }
  return absl::OkStatus();
}

Observation Observe(const Observation& previous,
                    const std::optional<LeaseRecord>& current, absl::Time now) {
  if (previous.record == current) return previous;
  return {current, now};
}

LeaseAction DecideLease(const Observation& observed, absl::Time now,
                        absl::string_view identity,
                        absl::Duration default_lease_duration) {
  if (!observed.record) return LeaseAction::kCreate;
  if (observed.record->holder_identity == identity) return LeaseAction::kRenew;
  return now >= TakeoverAllowedAt(observed, default_lease_duration)
             ? LeaseAction::kAcquire
             : LeaseAction::kWait;
}

absl::Time TakeoverAllowedAt(const Observation& observed,
                             absl::Duration default_lease_duration) {
  if (!observed.record || observed.record->holder_identity.empty())
    return absl::InfinitePast();
  return observed.observed_at +
         DurationOf(*observed.record, default_lease_duration);
}

LeaseRecord NextRecord(LeaseAction action,
                       const std::optional<LeaseRecord>& current,
                       absl::string_view identity, absl::Time wall_now,
                       absl::Duration lease_duration) {
  const absl::Time now = Microseconds(wall_now);
  LeaseRecord next;
  next.holder_identity = std::string(identity);
  next.lease_duration_seconds =
      static_cast<int>(absl::ToInt64Seconds(lease_duration));
  next.renew_time = now;
  next.acquire_time = now;
  if (action == LeaseAction::kCreate || !current) return next;
  if (action == LeaseAction::kRenew) {
    next.acquire_time = current->acquire_time.value_or(now);
    next.lease_transitions = current->lease_transitions;
  } else {
    next.lease_transitions = current->lease_transitions + 1;
  }
  return next;
}

LeaseRecord ReleasedRecord(const LeaseRecord& current, absl::Time wall_now) {
  const absl::Time now = Microseconds(wall_now);
  LeaseRecord released;
  released.lease_duration_seconds = 1;
  released.acquire_time = now;
  released.renew_time = now;
  released.lease_transitions = current.lease_transitions;
  return released;
}

bool StillLeading(absl::Time last_renew, absl::Time now,
                  const LeaseTiming& timing) {
  return now < last_renew + timing.renew_deadline;
}

}  // namespace smartcanary::kube
