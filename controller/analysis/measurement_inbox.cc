#include "controller/analysis/measurement_inbox.h"

namespace smartcanary {

bool MeasurementInbox::Begin(const std::string& key, const BatchId& id,
                             int calls) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = slots_.try_emplace(key);
  if (!inserted && it->second.pending > 0) return false;
  it->second = Slot{id, calls, {}};
  return true;
}

void MeasurementInbox::Deliver(const std::string& key, bool background,
                               std::vector<NamedMeasurement> results) {
  absl::MutexLock lock(&mu_);
  auto it = slots_.find(key);
  if (it == slots_.end() || it->second.pending == 0) return;  // forgotten
  auto& into = background ? it->second.batch.background : it->second.batch.step;
  into = std::move(results);
  // Waking under the lock lets Close() wait out a wake in progress.
  if (--it->second.pending == 0 && !closed_) wake_(key);
}

std::optional<MeasuredBatch> MeasurementInbox::Take(const std::string& key,
                                                    const BatchId& id) {
  absl::MutexLock lock(&mu_);
  auto it = slots_.find(key);
  if (it == slots_.end() || it->second.pending > 0) return std::nullopt;
  std::optional<MeasuredBatch> out;
  if (it->second.id == id) out = std::move(it->second.batch);
  slots_.erase(it);
  return out;
}

void MeasurementInbox::Forget(const std::string& key) {
  absl::MutexLock lock(&mu_);
  slots_.erase(key);
}

void MeasurementInbox::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

}  // namespace smartcanary
