#ifndef SMARTCANARY_COMMON_RETRY_H_
#define SMARTCANARY_COMMON_RETRY_H_

#include <functional>
#include <optional>

#include "absl/time/time.h"

namespace smartcanary {

// How hard to retry a call that failed in a way worth repeating (HTTP 429,
// 5xx, a dropped connection). Exponential backoff with jitter so that many
// clients failing together do not retry in lock step.
struct RetryPolicy {
  int max_attempts = 5;  // the first try included
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(5);
  double multiplier = 2;
  // The share of each wait that is random: 0.5 waits between half and all of
  // the backoff.
  double jitter = 0.5;
  // No wait is started that would end past this long after the first try.
  absl::Duration max_total = absl::Seconds(30);
};

// What one attempt says about trying again.
struct RetryVerdict {
  bool retry = false;
  // The server's Retry-After: wait at least this long.
  std::optional<absl::Duration> retry_after;
};

// Time, sleep and randomness, injected so that tests need not wait.
struct RetryClock {
  std::function<absl::Time()> now;
  // Waits `d`; false when cancelled (the loop then stops).
  std::function<bool(absl::Duration d)> sleep;
  std::function<double()> random;  // uniform in [0, 1)

  // The wall clock; sleeps wake early (returning false) once `cancelled`
  // returns true, checked every 100ms.
  static RetryClock Real(std::function<bool()> cancelled = nullptr);
};

// The wait before the next attempt after `attempts_made` attempts and
// `elapsed` since the first, or nullopt to stop: attempts are used up or the
// wait would end past the total budget. Pure.
std::optional<absl::Duration> NextRetryDelay(
    const RetryPolicy& policy, int attempts_made, absl::Duration elapsed,
    std::optional<absl::Duration> retry_after, double random01);

// Runs `attempt` until `verdict` says its result is final, the policy gives
// up, or the clock's sleep is cancelled; returns the last result.
template <typename R>
R RetryLoop(const RetryPolicy& policy, const RetryClock& clock,
            const std::function<R()>& attempt,
            const std::function<RetryVerdict(const R&)>& verdict) {
  const absl::Time start = clock.now();
  for (int attempts = 1;; ++attempts) {
    R result = attempt();
    const RetryVerdict next = verdict(result);
    if (!next.retry) return result;
    const std::optional<absl::Duration> delay =
        NextRetryDelay(policy, attempts, clock.now() - start, next.retry_after,
                       clock.random());
    if (!delay || !clock.sleep(*delay)) return result;
  }
}

}  // namespace smartcanary

#endif  // SMARTCANARY_COMMON_RETRY_H_
