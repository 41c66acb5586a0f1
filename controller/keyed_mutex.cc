#include "controller/keyed_mutex.h"

namespace smartcanary {

KeyedMutex::Lock::Lock(KeyedMutex& owner, std::string key)
    : owner_(owner), key_(std::move(key)) {
  {
    absl::MutexLock lock(&owner_.mu_);
    auto& entry = owner_.entries_[key_];
    if (!entry) entry = std::make_unique<Entry>();
    ++entry->users;
    mu_ = &entry->mu;
  }
  mu_->Lock();
}

KeyedMutex::Lock::~Lock() {
  mu_->Unlock();
  absl::MutexLock lock(&owner_.mu_);
  auto it = owner_.entries_.find(key_);
  if (--it->second->users == 0) owner_.entries_.erase(it);
}

size_t KeyedMutex::Size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace smartcanary
