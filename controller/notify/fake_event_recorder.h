#ifndef SMARTCANARY_CONTROLLER_NOTIFY_FAKE_EVENT_RECORDER_H_
#define SMARTCANARY_CONTROLLER_NOTIFY_FAKE_EVENT_RECORDER_H_

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "controller/notify/event_recorder.h"

namespace smartcanary::notify {

// An EventRecorder in memory for unit tests: keeps every occurrence.
class FakeEventRecorder : public EventRecorder {
 public:
  struct Recorded {
    ObjectRef object;
    EventType type;
    std::string reason;
    std::string message;
  };

  absl::Status Record(const ObjectRef& object, EventType type,
                      const std::string& reason, const std::string& message,
                      absl::Time) override {
    absl::MutexLock lock(&mu_);
    recorded_.push_back({object, type, reason, message});
    return absl::OkStatus();
  }

  std::vector<Recorded> recorded() const {
    absl::MutexLock lock(&mu_);
    return recorded_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Recorded> recorded_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smartcanary::notify

#endif  // SMARTCANARY_CONTROLLER_NOTIFY_FAKE_EVENT_RECORDER_H_
