#ifndef SMARTCANARY_CONTROLLER_WORK_QUEUE_H_
#define SMARTCANARY_CONTROLLER_WORK_QUEUE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace smartcanary {

// Keys due at a time, each at most once: adding a key that is already queued
// keeps the earlier due time, so a burst of watch events for one rollout
// becomes one reconcile.
class WorkQueue {
 public:
  void Add(const std::string& key, absl::Duration delay = absl::ZeroDuration());
  // Blocks until a key is due or the queue is shut down (nullopt).
  std::optional<std::string> Next();
  void ShutDown();

 private:
  absl::Mutex mu_;
  std::map<std::string, absl::Time> due_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  // Bumped by Add so a waiting Next re-reads the due times at once.
  uint64_t additions_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_WORK_QUEUE_H_
