#ifndef SMARTCANARY_CONTROLLER_WORK_QUEUE_H_
#define SMARTCANARY_CONTROLLER_WORK_QUEUE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace smartcanary {

// Keys due at a time, each at most once, each handed to one worker at a time
// (client-go's workqueue semantics). Adding a key that is already queued
// keeps the earlier due time, so a burst of watch events for one rollout
// becomes one reconcile. Adding a key that a worker holds marks it to be
// queued again when that worker calls Done, so two workers never reconcile
// one rollout at once and no event is lost.
class WorkQueue {
 public:
  void Add(const std::string& key, absl::Duration delay = absl::ZeroDuration());
  // Blocks until a key is due and not held by another worker, or the queue is
  // shut down (nullopt). The caller holds the key until Done(key).
  std::optional<std::string> Next();
  void Done(const std::string& key);
  void ShutDown();
  size_t Length() const;

 private:
  void Schedule(const std::string& key, absl::Time when)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, absl::Time> due_ ABSL_GUARDED_BY(mu_);
  std::set<std::pair<absl::Time, std::string>> by_time_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> processing_ ABSL_GUARDED_BY(mu_);
  // Keys added while held by a worker, with their earliest due time.
  std::map<std::string, absl::Time> dirty_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  // Bumped by Add and Done so waiting workers re-read the due times at once.
  uint64_t changes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_WORK_QUEUE_H_
