#ifndef SMARTCANARY_CONTROLLER_AUTH_REVIEW_CACHE_H_
#define SMARTCANARY_CONTROLLER_AUTH_REVIEW_CACHE_H_

#include <map>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace smartcanary::auth {

// Recent review answers (TokenReview, SubjectAccessReview), so that a CD
// system polling a rollout does not cost the API server two reviews per
// call. Keys are digests, never tokens. Bounded: when full, expired entries
// go first, then the one closest to expiry. The caller passes the time, so
// expiry is testable without a clock. Thread-safe.
template <typename Value>
class ReviewCache {
 public:
  explicit ReviewCache(size_t max_entries) : max_entries_(max_entries) {}

  std::optional<Value> Find(const std::string& key, absl::Time now) const {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.expires <= now) return std::nullopt;
    return it->second.value;
  }

  void Put(const std::string& key, Value value, absl::Time expires,
           absl::Time now) {
    if (max_entries_ == 0 || expires <= now) return;
    absl::MutexLock lock(&mu_);
    if (entries_.size() >= max_entries_ && !entries_.contains(key)) {
      std::erase_if(entries_, [now](const auto& entry) {
        return entry.second.expires <= now;
      });
    }
    if (entries_.size() >= max_entries_ && !entries_.contains(key)) {
      auto soonest = entries_.begin();
      for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->second.expires < soonest->second.expires) soonest = it;
      }
      entries_.erase(soonest);
    }
    entries_[key] = Entry{std::move(value), expires};
  }

  size_t size() const {
    absl::MutexLock lock(&mu_);
    return entries_.size();
  }

 private:
  struct Entry {
    Value value;
    absl::Time expires;
  };
  const size_t max_entries_;
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smartcanary::auth

#endif  // SMARTCANARY_CONTROLLER_AUTH_REVIEW_CACHE_H_
