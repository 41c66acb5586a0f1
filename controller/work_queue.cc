#include "controller/work_queue.h"

#include <algorithm>

namespace smartcanary {

void WorkQueue::Schedule(const std::string& key, absl::Time when) {
  auto [it, inserted] = due_.emplace(key, when);
  if (!inserted) {
    if (it->second <= when) return;
    by_time_.erase({it->second, key});
    it->second = when;
  }
  by_time_.emplace(when, key);
  ++changes_;
}

void WorkQueue::Add(const std::string& key, absl::Duration delay) {
  if (delay == absl::InfiniteDuration()) return;
  absl::MutexLock lock(&mu_);
  const absl::Time when = absl::Now() + delay;
  if (processing_.count(key) > 0) {
    auto [it, inserted] = dirty_.emplace(key, when);
    if (!inserted) it->second = std::min(it->second, when);
    return;
  }
  Schedule(key, when);
}

std::optional<std::string> WorkQueue::Next() {
  absl::MutexLock lock(&mu_);
  while (true) {
    if (shut_down_) return std::nullopt;
    const absl::Time now = absl::Now();
    if (!by_time_.empty() && by_time_.begin()->first <= now) {
      std::string key = by_time_.begin()->second;
      by_time_.erase(by_time_.begin());
      due_.erase(key);
      processing_.insert(key);
      return key;
    }
    // Wake for a change, shut-down, or the earliest due time (capped so a
    // clock step cannot strand a key).
    const absl::Duration wait =
        by_time_.empty()
            ? absl::Seconds(1)
            : std::min(by_time_.begin()->first - now, absl::Seconds(1));
    const uint64_t seen = changes_;
    auto woken = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return shut_down_ || changes_ != seen;
    };
    mu_.AwaitWithTimeout(absl::Condition(&woken), wait);
  }
}

void WorkQueue::Done(const std::string& key) {
  absl::MutexLock lock(&mu_);
  processing_.erase(key);
  if (auto it = dirty_.find(key); it != dirty_.end()) {
    Schedule(key, it->second);
    dirty_.erase(it);
  }
}

void WorkQueue::ShutDown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
}

size_t WorkQueue::Length() const {
  absl::MutexLock lock(&mu_);
  return due_.size() + dirty_.size();
}

}  // namespace smartcanary
