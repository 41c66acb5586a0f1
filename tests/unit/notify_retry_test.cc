// Which webhook failures are tried again, and how the tries are spread.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

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

TEST(WebhookRetryPolicyTest, AFewJitteredGrowingWaitsThenGivesUp) {
  const RetryPolicy policy = WebhookRetryPolicy();
  for (double random : {0.0, 0.999}) {
    absl::Duration backoff = policy.initial_backoff;
    absl::Duration elapsed;
    int attempts = 1;
    for (;; ++attempts) {
      std::optional<absl::Duration> wait =
          NextRetryDelay(policy, attempts, elapsed, std::nullopt, random);
      if (!wait) break;
      // Jitter takes up to half of each wait, never more.
      EXPECT_GE(*wait, backoff * (1 - policy.jitter)) << random;
      EXPECT_LE(*wait, backoff) << random;
      elapsed += *wait;
      backoff = std::min(backoff * policy.multiplier, policy.max_backoff);
    }
    EXPECT_EQ(attempts, policy.max_attempts);
    EXPECT_LE(elapsed, policy.max_total);
  }
}

// Waits nothing: the loop's decisions, not its timing, are under test.
RetryClock NoWaitClock() {
  return {[] { return absl::UnixEpoch(); }, [](absl::Duration) { return true; },
          [] { return 0.5; }};
}

TEST(WebhookRetryPolicyTest, TriesEvery5xxUntilThePolicyEnds) {
  int attempts = 0;
  const std::function<absl::StatusOr<HttpResponse>()> attempt = [&] {
    ++attempts;
    return Answer(503);
  };
  const std::function<RetryVerdict(const absl::StatusOr<HttpResponse>&)>
      verdict = WebhookRetryVerdict;
  auto result =
      RetryLoop(WebhookRetryPolicy(), NoWaitClock(), attempt, verdict);
  EXPECT_EQ(result->status, 503);
  EXPECT_EQ(attempts, WebhookRetryPolicy().max_attempts);
}

TEST(WebhookRetryPolicyTest, StopsAtTheFirstRefusalOrSuccess) {
  for (int final_status : {200, 404}) {
    int attempts = 0;
    const std::function<absl::StatusOr<HttpResponse>()> attempt = [&] {
      return Answer(++attempts == 1 ? 502 : final_status);
    };
    const std::function<RetryVerdict(const absl::StatusOr<HttpResponse>&)>
        verdict = WebhookRetryVerdict;
    auto result =
        RetryLoop(WebhookRetryPolicy(), NoWaitClock(), attempt, verdict);
    EXPECT_EQ(result->status, final_status);
    EXPECT_EQ(attempts, 2);
  }
}

}  // namespace
}  // namespace smartcanary::notify
