#include "common/retry.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/time/clock.h"

namespace smartcanary {

std::optional<absl::Duration> NextRetryDelay(
    const RetryPolicy& policy, int attempts_made, absl::Duration elapsed,
    std::optional<absl::Duration> retry_after, double random01) {
  if (attempts_made >= policy.max_attempts) return std::nullopt;
  const double growth =
      std::pow(std::max(policy.multiplier, 1.0), attempts_made - 1);
  const absl::Duration backoff =
      std::min(policy.initial_backoff * growth, policy.max_backoff);
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  absl::Duration delay =
      backoff * (1 - jitter + jitter * std::clamp(random01, 0.0, 1.0));
  // The server knows best when it can take the request again.
  if (retry_after) delay = std::max(delay, *retry_after);
  if (elapsed + delay > policy.max_total) return std::nullopt;
  return delay;
}

RetryClock RetryClock::Real(std::function<bool()> cancelled) {
  RetryClock clock;
  clock.now = [] { return absl::Now(); };
  clock.sleep = [cancelled = std::move(cancelled)](absl::Duration d) {
    const absl::Time until = absl::Now() + d;
    while (true) {
      if (cancelled && cancelled()) return false;
      const absl::Duration left = until - absl::Now();
      if (left <= absl::ZeroDuration()) return true;
      absl::SleepFor(std::min(left, absl::Milliseconds(100)));
    }
  };
  clock.random = [] {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return std::uniform_real_distribution<double>(0, 1)(engine);
  };
  return clock;
}

}  // namespace smartcanary
