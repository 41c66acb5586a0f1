#include "controller/analysis/preflight_inbox.h"

namespace smartcanary {

bool PreflightInbox::Begin(const std::string& key) {
  absl::MutexLock lock(&mu_);
  return slots_.try_emplace(key).second;
}

bool PreflightInbox::Busy(const std::string& key) {
  absl::MutexLock lock(&mu_);
  return slots_.contains(key);
}

void PreflightInbox::Deliver(const std::string& key, PreflightStatus result) {
  absl::MutexLock lock(&mu_);
  auto it = slots_.find(key);
  if (it == slots_.end()) return;  // forgotten
  it->second = std::move(result);
  // Waking under the lock lets Close() wait out a wake in progress.
  if (!closed_) wake_(key);
}

std::optional<PreflightStatus> PreflightInbox::Take(const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = slots_.find(key);
  if (it == slots_.end() || !it->second) return std::nullopt;
  std::optional<PreflightStatus> out = std::move(it->second);
  slots_.erase(it);
  return out;
}

void PreflightInbox::Forget(const std::string& key) {
  absl::MutexLock lock(&mu_);
  slots_.erase(key);
}

void PreflightInbox::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

}  // namespace smartcanary
