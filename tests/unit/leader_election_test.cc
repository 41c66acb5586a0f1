// The pure half of leader election: the Lease record's wire form and the
// acquire/renew/wait decision, with client-go's semantics.
#include <gtest/gtest.h>

#include "controller/kube/lease_decision.h"
#include "controller/kube/lease_record.h"

namespace smartcanary::kube {
namespace {

using nlohmann::json;

constexpr char kMe[] = "canaryd-a_1";
constexpr char kOther[] = "canaryd-b_2";
const absl::Duration kLease = absl::Seconds(15);
// Monotonic instants of this host; the records' wall times are unrelated.
const absl::Time kT0 = absl::FromUnixSeconds(1000);

LeaseRecord Held(const std::string& holder, int seconds = 15) {
  LeaseRecord record;
  record.holder_identity = holder;
  record.lease_duration_seconds = seconds;
  record.acquire_time = absl::FromUnixSeconds(1'700'000'000);
  record.renew_time = absl::FromUnixSeconds(1'700'000'100);
  record.lease_transitions = 3;
  return record;
}

Observation Seen(const LeaseRecord& record, absl::Time at = kT0) {
  return {record, at};
}

TEST(LeaseRecordTest, MicroTimeIsRfc3339WithSixDigitsInUtc) {
  const absl::Time t = absl::FromUnixMicros(1'767'323'045'000'006);
  EXPECT_EQ(FormatMicroTime(t), "2026-01-02T03:04:05.000006Z");
  EXPECT_EQ(*ParseMicroTime("2026-01-02T03:04:05.000006Z"), t);
  // What other writers send: no fraction, or an offset.
  EXPECT_EQ(*ParseMicroTime("2026-01-02T03:04:05Z"),
            absl::FromUnixSeconds(1'767'323'045));
  EXPECT_EQ(*ParseMicroTime("2026-01-02T05:04:05.5+02:00"),
            absl::FromUnixMillis(1'767'323'045'500));
  EXPECT_FALSE(ParseMicroTime("yesterday").ok());
}

TEST(LeaseRecordTest, SpecRoundTripsEveryField) {
  LeaseRecord record = Held(kMe);
  json spec = LeaseRecordToSpec(record);
  EXPECT_EQ(spec["holderIdentity"], kMe);
  EXPECT_EQ(spec["leaseDurationSeconds"], 15);
  EXPECT_EQ(spec["leaseTransitions"], 3);
  EXPECT_EQ(spec["renewTime"], "2023-11-14T22:15:00.000000Z");
  EXPECT_EQ(*LeaseRecordFromSpec(spec), record);
}

TEST(LeaseRecordTest, AbsentFieldsAreZeroAndWrongTypesAreNamed) {
  auto empty = LeaseRecordFromSpec(json::object());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, LeaseRecord());
  EXPECT_EQ(*LeaseRecordFromSpec(json()), LeaseRecord());
  // A released lease may come back with holderIdentity absent or null.
  EXPECT_EQ(
      LeaseRecordFromSpec(json{{"holderIdentity", nullptr}})->holder_identity,
      "");

  auto holder = LeaseRecordFromSpec(json{{"holderIdentity", 7}});
  EXPECT_EQ(holder.status().message(),
            "Lease spec.holderIdentity: must be a string");
  auto duration = LeaseRecordFromSpec(json{{"leaseDurationSeconds", "15"}});
  EXPECT_EQ(duration.status().message(),
            "Lease spec.leaseDurationSeconds: must be an integer");
  auto renew = LeaseRecordFromSpec(json{{"renewTime", "soon"}});
  EXPECT_EQ(renew.status().message(),
            "Lease spec.renewTime: must be an RFC 3339 time string");
  EXPECT_FALSE(LeaseRecordFromSpec(json::array()).ok());
}

TEST(LeaseTimingTest, ClientGoConstraints) {
  EXPECT_TRUE(ValidateTiming(LeaseTiming{}).ok());
  EXPECT_TRUE(ValidateTiming(
                  {absl::Seconds(3), absl::Seconds(2), absl::Milliseconds(500)})
                  .ok());
  // Renew deadline must be shorter than the lease: that gap is the fence.
  EXPECT_FALSE(
      ValidateTiming({absl::Seconds(10), absl::Seconds(10), absl::Seconds(2)})
          .ok());
  // A jittered retry pause (1.2x) must fit inside the renew deadline.
  EXPECT_FALSE(ValidateTiming({absl::Seconds(15), absl::Seconds(10),
                               absl::Milliseconds(8500)})
                   .ok());
  EXPECT_FALSE(ValidateTiming(
                   {absl::Seconds(15), absl::Seconds(10), absl::ZeroDuration()})
                   .ok());
  // leaseDurationSeconds is an integer.
  EXPECT_FALSE(ValidateTiming({absl::Milliseconds(2500), absl::Seconds(2),
                               absl::Milliseconds(500)})
                   .ok());
}

TEST(ObserveTest, TheClockRestartsOnlyWhenTheRecordChanges) {
  const LeaseRecord held = Held(kOther);
  Observation first = Observe({}, held, kT0);
  EXPECT_EQ(first.observed_at, kT0);
  // The same record read again: the holder has not renewed.
  EXPECT_EQ(Observe(first, held, kT0 + absl::Seconds(9)).observed_at, kT0);
  LeaseRecord renewed = held;
  renewed.renew_time = *held.renew_time + absl::Seconds(2);
  EXPECT_EQ(Observe(first, renewed, kT0 + absl::Seconds(9)).observed_at,
            kT0 + absl::Seconds(9));
  // Deleted, then recreated: both are changes.
  Observation gone = Observe(first, std::nullopt, kT0 + absl::Seconds(1));
  EXPECT_FALSE(gone.record.has_value());
  EXPECT_EQ(gone.observed_at, kT0 + absl::Seconds(1));
  EXPECT_EQ(Observe(gone, held, kT0 + absl::Seconds(2)).observed_at,
            kT0 + absl::Seconds(2));
}

TEST(DecideLeaseTest, NoLeaseIsCreated) {
  EXPECT_EQ(DecideLease({}, kT0, kMe, kLease), LeaseAction::kCreate);
}

TEST(DecideLeaseTest, OurOwnLeaseIsRenewedWhateverItsAge) {
  EXPECT_EQ(DecideLease(Seen(Held(kMe)), kT0, kMe, kLease),
            LeaseAction::kRenew);
  // Even unrenewed for longer than its duration: the conditional PUT
  // proves nobody else wrote since.
  EXPECT_EQ(DecideLease(Seen(Held(kMe)), kT0 + absl::Hours(1), kMe, kLease),
            LeaseAction::kRenew);
}

TEST(DecideLeaseTest, AReleasedLeaseIsTakenAtOnce) {
  LeaseRecord released = ReleasedRecord(Held(kOther), absl::Now());
  EXPECT_EQ(DecideLease(Seen(released), kT0, kMe, kLease),
            LeaseAction::kAcquire);
}

TEST(DecideLeaseTest, AnotherHolderIsWaitedOutForItsDurationSinceObserved) {
  const Observation seen = Seen(Held(kOther, 15));
  EXPECT_EQ(DecideLease(seen, kT0, kMe, kLease), LeaseAction::kWait);
  EXPECT_EQ(DecideLease(seen, kT0 + absl::Seconds(15) - absl::Nanoseconds(1),
                        kMe, kLease),
            LeaseAction::kWait);
  EXPECT_EQ(DecideLease(seen, kT0 + absl::Seconds(15), kMe, kLease),
            LeaseAction::kAcquire);
  EXPECT_EQ(TakeoverAllowedAt(seen, kLease), kT0 + absl::Seconds(15));
}

TEST(DecideLeaseTest, TheHoldersDeclaredDurationCountsNotOurs) {
  // The holder asked for 60 s; our own 15 s setting does not shorten it.
  const Observation seen = Seen(Held(kOther, 60));
  EXPECT_EQ(DecideLease(seen, kT0 + absl::Seconds(30), kMe, kLease),
            LeaseAction::kWait);
  EXPECT_EQ(DecideLease(seen, kT0 + absl::Seconds(60), kMe, kLease),
            LeaseAction::kAcquire);
  // A record without a duration waits ours out instead of none.
  const Observation undeclared = Seen(Held(kOther, 0));
  EXPECT_EQ(DecideLease(undeclared, kT0 + absl::Seconds(14), kMe, kLease),
            LeaseAction::kWait);
  EXPECT_EQ(DecideLease(undeclared, kT0 + absl::Seconds(15), kMe, kLease),
            LeaseAction::kAcquire);
}

TEST(DecideLeaseTest, TheHoldersTimestampsNeverEnterTheDecision) {
  // A renewTime from long ago (or a skewed clock) on a record we first saw
  // just now: still live.
  LeaseRecord ancient = Held(kOther);
  ancient.renew_time = absl::FromUnixSeconds(0);
  EXPECT_EQ(DecideLease(Seen(ancient), kT0 + absl::Seconds(1), kMe, kLease),
            LeaseAction::kWait);
  // One from the far future, unchanged for its duration: expired.
  LeaseRecord future = Held(kOther);
  future.renew_time = absl::FromUnixSeconds(4'000'000'000);
  EXPECT_EQ(DecideLease(Seen(future), kT0 + absl::Seconds(15), kMe, kLease),
            LeaseAction::kAcquire);
}

TEST(NextRecordTest, CreateStartsTheCountAtZero) {
  const absl::Time wall = absl::FromUnixNanos(1'700'000'000'123'456'789);
  LeaseRecord next =
      NextRecord(LeaseAction::kCreate, std::nullopt, kMe, wall, kLease);
  EXPECT_EQ(next.holder_identity, kMe);
  EXPECT_EQ(next.lease_duration_seconds, 15);
  EXPECT_EQ(next.lease_transitions, 0);
  // Truncated to what MicroTime carries, so a re-read compares equal.
  EXPECT_EQ(next.acquire_time, absl::FromUnixMicros(1'700'000'000'123'456));
  EXPECT_EQ(next.renew_time, next.acquire_time);
}

TEST(NextRecordTest, RenewKeepsAcquireTimeAndTransitions) {
  const absl::Time wall = absl::FromUnixSeconds(1'700'000'500);
  LeaseRecord next =
      NextRecord(LeaseAction::kRenew, Held(kMe), kMe, wall, kLease);
  EXPECT_EQ(next.acquire_time, Held(kMe).acquire_time);
  EXPECT_EQ(next.renew_time, wall);
  EXPECT_EQ(next.lease_transitions, 3);
}

TEST(NextRecordTest, TakingOverCountsATransition) {
  const absl::Time wall = absl::FromUnixSeconds(1'700'000'500);
  for (const LeaseRecord& before :
       {Held(kOther), ReleasedRecord(Held(kOther), wall)}) {
    LeaseRecord next =
        NextRecord(LeaseAction::kAcquire, before, kMe, wall, absl::Seconds(3));
    EXPECT_EQ(next.holder_identity, kMe);
    EXPECT_EQ(next.lease_duration_seconds, 3);
    EXPECT_EQ(next.acquire_time, wall);
    EXPECT_EQ(next.renew_time, wall);
    EXPECT_EQ(next.lease_transitions, 4);
  }
}

TEST(ReleasedRecordTest, NobodyHoldsItForOneSecond) {
  const absl::Time wall = absl::FromUnixSeconds(1'700'000'500);
  LeaseRecord released = ReleasedRecord(Held(kMe), wall);
  EXPECT_EQ(released.holder_identity, "");
  EXPECT_EQ(released.lease_duration_seconds, 1);
  EXPECT_EQ(released.lease_transitions, 3);
  EXPECT_EQ(released.renew_time, wall);
}

TEST(StillLeadingTest, TheFenceFallsAtTheRenewDeadline) {
  const LeaseTiming timing;  // 15 s lease, 10 s renew deadline
  EXPECT_TRUE(StillLeading(kT0, kT0, timing));
  EXPECT_TRUE(StillLeading(kT0, kT0 + absl::Seconds(10) - absl::Nanoseconds(1),
                           timing));
  EXPECT_FALSE(StillLeading(kT0, kT0 + absl::Seconds(10), timing));
  EXPECT_FALSE(StillLeading(absl::InfinitePast(), kT0, timing));
  // A standby that saw the last renew land can take over no earlier than
  // lease_duration later: the fence fell lease - renew = 5 s before.
  const Observation standby = Seen(Held(kMe), kT0);
  EXPECT_LT(kT0 + timing.renew_deadline,
            TakeoverAllowedAt(standby, timing.lease_duration));
}

}  // namespace
}  // namespace smartcanary::kube
