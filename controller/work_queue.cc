#include "controller/work_queue.h"

#include <algorithm>

namespace smartcanary {

void WorkQueue::Add(const std::string& key, absl::Duration delay) {
  if (delay == absl::InfiniteDuration()) return;
  absl::MutexLock lock(&mu_);
  const absl::Time when = absl::Now() + delay;
  auto [it, inserted] = due_.emplace(key, when);
  if (!inserted) it->second = std::min(it->second, when);
  ++additions_;
}

std::optional<std::string> WorkQueue::Next() {
  absl::MutexLock lock(&mu_);
  while (true) {
    if (shut_down_) return std::nullopt;
    auto earliest = std::min_element(
        due_.begin(), due_.end(),
        [](const auto& a, const auto& b) { return a.second < b.second; });
    const absl::Time now = absl::Now();
    if (earliest != due_.end() && earliest->second <= now) {
      std::string key = earliest->first;
      due_.erase(earliest);
      return key;
    }
    // Wake for a new key, shut-down, or the earliest due time (capped so a
    // clock step cannot strand a key).
    const absl::Duration wait =
        earliest == due_.end()
            ? absl::Seconds(1)
            : std::min(earliest->second - now, absl::Seconds(1));
    const uint64_t seen = additions_;
    auto woken = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return shut_down_ || additions_ != seen;
    };
    mu_.AwaitWithTimeout(absl::Condition(&woken), wait);
  }
}

void WorkQueue::ShutDown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
}

}  // namespace smartcanary
