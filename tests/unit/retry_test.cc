#include "common/retry.h"

#include <vector>

#include "gtest/gtest.h"

namespace smartcanary {
namespace {

RetryPolicy NoJitterPolicy() {
  RetryPolicy policy;
  policy.max_attempts = 6;
  policy.initial_backoff = absl::Milliseconds(100);
  policy.max_backoff = absl::Milliseconds(500);
  policy.multiplier = 2;
  policy.jitter = 0;
  policy.max_total = absl::Seconds(10);
  return policy;
}

TEST(NextRetryDelayTest, GrowsExponentiallyUpToTheCap) {
  const RetryPolicy policy = NoJitterPolicy();
  std::vector<absl::Duration> delays;
  for (int attempts = 1; attempts <= 5; ++attempts) {
    delays.push_back(*NextRetryDelay(policy, attempts, absl::ZeroDuration(),
                                     std::nullopt, 0.5));
  }
  EXPECT_EQ(delays, (std::vector<absl::Duration>{
                        absl::Milliseconds(100), absl::Milliseconds(200),
                        absl::Milliseconds(400), absl::Milliseconds(500),
                        absl::Milliseconds(500)}));
}

TEST(NextRetryDelayTest, JitterTakesARandomShareOfTheBackoff) {
  RetryPolicy policy = NoJitterPolicy();
  policy.jitter = 0.5;
  // Third attempt: a 400ms backoff, of which half is random.
  EXPECT_EQ(*NextRetryDelay(policy, 3, absl::ZeroDuration(), std::nullopt, 0),
            absl::Milliseconds(200));
  EXPECT_EQ(*NextRetryDelay(policy, 3, absl::ZeroDuration(), std::nullopt, 0.5),
            absl::Milliseconds(300));
  const absl::Duration top =
      *NextRetryDelay(policy, 3, absl::ZeroDuration(), std::nullopt, 0.999);
  EXPECT_GT(top, absl::Milliseconds(399));
  EXPECT_LT(top, absl::Milliseconds(400));
}

TEST(NextRetryDelayTest, RetryAfterIsAFloorNotAHint) {
  const RetryPolicy policy = NoJitterPolicy();
  EXPECT_EQ(
      *NextRetryDelay(policy, 1, absl::ZeroDuration(), absl::Seconds(3), 0),
      absl::Seconds(3));
  // A shorter Retry-After than the backoff does not hurry us.
  EXPECT_EQ(*NextRetryDelay(policy, 3, absl::ZeroDuration(),
                            absl::Milliseconds(10), 0),
            absl::Milliseconds(400));
}

TEST(NextRetryDelayTest, StopsWhenAttemptsOrTimeRunOut) {
  const RetryPolicy policy = NoJitterPolicy();
  EXPECT_FALSE(
      NextRetryDelay(policy, 6, absl::ZeroDuration(), std::nullopt, 0));
  // 9.95s spent: a 100ms wait would end past the 10s budget.
  EXPECT_FALSE(
      NextRetryDelay(policy, 1, absl::Milliseconds(9950), std::nullopt, 0));
  EXPECT_TRUE(
      NextRetryDelay(policy, 1, absl::Milliseconds(9900), std::nullopt, 0));
  // A Retry-After beyond the budget is not waited for.
  EXPECT_FALSE(
      NextRetryDelay(policy, 1, absl::ZeroDuration(), absl::Seconds(60), 0));
}

// A clock that only moves when the loop sleeps.
struct FakeClock {
  absl::Time now = absl::UnixEpoch();
  std::vector<absl::Duration> sleeps;
  int cancel_after_sleeps = -1;

  RetryClock Clock() {
    return {[this] { return now; },
            [this](absl::Duration d) {
              if (cancel_after_sleeps >= 0 &&
                  static_cast<int>(sleeps.size()) >= cancel_after_sleeps)
                return false;
              sleeps.push_back(d);
              now += d;
              return true;
            },
            [] { return 0.0; }};
  }
};

TEST(RetryLoopTest, RetriesUntilTheResultIsFinal) {
  FakeClock clock;
  int calls = 0;
  const int result = RetryLoop<int>(
      NoJitterPolicy(), clock.Clock(), [&] { return ++calls; },
      [](const int& n) {
        return RetryVerdict{n < 3, std::nullopt};
      });
  EXPECT_EQ(result, 3);
  EXPECT_EQ(clock.sleeps,
            (std::vector<absl::Duration>{absl::Milliseconds(100),
                                         absl::Milliseconds(200)}));
}

TEST(RetryLoopTest, GivesUpAfterMaxAttemptsWithTheLastResult) {
  FakeClock clock;
  int calls = 0;
  const int result = RetryLoop<int>(
      NoJitterPolicy(), clock.Clock(), [&] { return ++calls; },
      [](const int&) {
        return RetryVerdict{true, std::nullopt};
      });
  EXPECT_EQ(result, 6);
  EXPECT_EQ(calls, 6);
  EXPECT_EQ(clock.sleeps.size(), 5u);
}

TEST(RetryLoopTest, HonoursRetryAfterFromTheAttempt) {
  FakeClock clock;
  int calls = 0;
  RetryLoop<int>(
      NoJitterPolicy(), clock.Clock(), [&] { return ++calls; },
      [](const int& n) {
        return RetryVerdict{n < 2, absl::Seconds(2)};
      });
  EXPECT_EQ(clock.sleeps, std::vector<absl::Duration>{absl::Seconds(2)});
}

TEST(RetryLoopTest, ACancelledSleepEndsTheLoop) {
  FakeClock clock;
  clock.cancel_after_sleeps = 1;
  int calls = 0;
  RetryLoop<int>(
      NoJitterPolicy(), clock.Clock(), [&] { return ++calls; },
      [](const int&) {
        return RetryVerdict{true, std::nullopt};
      });
  EXPECT_EQ(calls, 2);
}

TEST(RetryClockTest, RealSleepWakesWhenCancelled) {
  bool cancelled = true;
  // Cancelled before it starts: returns false at once, not after an hour.
  EXPECT_FALSE(
      RetryClock::Real([&] { return cancelled; }).sleep(absl::Hours(1)));
  EXPECT_TRUE(RetryClock::Real().sleep(absl::ZeroDuration()));
  const double random = RetryClock::Real().random();
  EXPECT_GE(random, 0);
  EXPECT_LT(random, 1);
}

}  // namespace
}  // namespace smartcanary
