// Which webhook failures are tried again, and how the tries are spread.
#include <gtest/gtest.h>

#include <vector>

#include "controller/notify/webhook_retry.h"

namespace smartcanary::notify {
namespace {

absl::StatusOr<HttpResponse> Answer(int status) {
  HttpResponse response;
  response.status = status;
  return response;
}

TEST(WebhookRetryVerdictTest, RetriesTimeoutsLostConnections429And5xx) {
  EXPECT_TRUE(WebhookRetryVerdict(absl::DeadlineExceededError("t")).retry);
  EXPECT_TRUE(WebhookRetryVerdict(absl::UnavailableError("refused")).retry);
  for (int status : {408, 429, 500, 502, 503, 504})
    EXPECT_TRUE(WebhookRetryVerdict(Answer(status)).retry) << status;
}

TEST(WebhookRetryVerdictTest, NeverRetriesSuccessOrARefusedBody) {
  for (int status : {200, 204, 400, 403, 404, 410})
    EXPECT_FALSE(WebhookRetryVerdict(Answer(status)).retry) << status;
  EXPECT_FALSE(WebhookRetryVerdict(absl::CancelledError("stopping")).retry);
  EXPECT_FALSE(
      WebhookRetryVerdict(absl::ResourceExhaustedError("too big")).retry);
  EXPECT_TRUE(WebhookDelivered(Answer(204)));
  EXPECT_FALSE(WebhookDelivered(Answer(500)));
  EXPECT_FALSE(WebhookDelivered(absl::UnavailableError("x")));
}

TEST(WebhookRetryVerdictTest, PassesRetryAfterOnlyWithARetry) {
  absl::StatusOr<HttpResponse> busy = Answer(429);
  busy->retry_after = absl::Seconds(7);
  EXPECT_EQ(WebhookRetryVerdict(busy).retry_after, absl::Seconds(7));
  absl::StatusOr<HttpResponse> refused = Answer(400);
  refused->retry_after = absl::Seconds(7);
  EXPECT_FALSE(WebhookRetryVerdict(refused).retry_after.has_value());
}

// A fake clock: the loop's waits are recorded, never slept.
struct FakeClock {
  absl::Time now = absl::UnixEpoch();
  std::vector<absl::Duration> waits;
  double random = 0.5;
  RetryClock clock() {
    return {[this] { return now; },
            [this](absl::Duration d) {
              waits.push_back(d);
              now += d;
              return true;
            },
            [this] { return random; }};
  }
};

TEST(WebhookRetryPolicyTest, AFewJitteredGrowingTriesThenGivesUp) {
  const RetryPolicy policy = WebhookRetryPolicy();
  for (double random : {0.0, 0.999}) {
    FakeClock fake;
    fake.random = random;
    int attempts = 0;
    const std::function<absl::StatusOr<HttpResponse>()> attempt = [&] {
      ++attempts;
      return Answer(503);
    };
    const std::function<RetryVerdict(const absl::StatusOr<HttpResponse>&)>
        verdict = WebhookRetryVerdict;
    auto result = RetryLoop(policy, fake.clock(), attempt, verdict);
    EXPECT_EQ(result->status, 503);
    EXPECT_EQ(attempts, policy.max_attempts);
    ASSERT_EQ(fake.waits.size(), static_cast<size_t>(policy.max_attempts - 1));
    absl::Duration backoff = policy.initial_backoff;
    for (absl::Duration wait : fake.waits) {
      // Jitter takes up to half of each wait, never more.
      EXPECT_GE(wait, backoff * (1 - policy.jitter)) << random;
      EXPECT_LE(wait, backoff) << random;
      backoff = std::min(backoff * policy.multiplier, policy.max_backoff);
    }
  }
}

TEST(WebhookRetryPolicyTest, StopsAtTheFirstRefusalOrSuccess) {
  for (int final_status : {200, 404}) {
    FakeClock fake;
    int attempts = 0;
    const std::function<absl::StatusOr<HttpResponse>()> attempt = [&] {
      return Answer(++attempts == 1 ? 502 : final_status);
    };
    const std::function<RetryVerdict(const absl::StatusOr<HttpResponse>&)>
        verdict = WebhookRetryVerdict;
    auto result =
        RetryLoop(WebhookRetryPolicy(), fake.clock(), attempt, verdict);
    EXPECT_EQ(result->status, final_status);
    EXPECT_EQ(attempts, 2);
  }
}

}  // namespace
}  // namespace smartcanary::notify
