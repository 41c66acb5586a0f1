#ifndef SMARTCANARY_CONTROLLER_KEYED_MUTEX_H_
#define SMARTCANARY_CONTROLLER_KEYED_MUTEX_H_

#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"

namespace smartcanary {

// One mutex per key (a rollout's namespace/name), created on first use and
// dropped when nobody holds or waits for it. A reconcile and a command for
// the same rollout never interleave; different rollouts never wait on each
// other.
class KeyedMutex {
 public:
  class Lock {
   public:
    Lock(KeyedMutex& owner, std::string key);
    ~Lock();
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    KeyedMutex& owner_;
    std::string key_;
    absl::Mutex* mu_;
  };

  size_t Size() const;

 private:
  struct Entry {
    absl::Mutex mu;
    int users = 0;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_KEYED_MUTEX_H_
