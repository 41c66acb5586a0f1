#ifndef SMARTCANARY_CONTROLLER_NOTIFY_EVENT_RECORDER_H_
#define SMARTCANARY_CONTROLLER_NOTIFY_EVENT_RECORDER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "controller/notify/notification.h"

namespace smartcanary::notify {

// The object an Event is about.
struct ObjectRef {
  std::string api_version;
  std::string kind;
  std::string ns;
  std::string name;
  std::string uid;
  std::string resource_version;
};

// Writes Kubernetes Events. Implemented by kube::KubeEventRecorder (the
// API server; repeats aggregated into one Event's count) and
// FakeEventRecorder (in memory, for unit tests). May block on I/O: callers
// on a rollout's path go through EventRecorderSink's queue.
class EventRecorder {
 public:
  virtual ~EventRecorder() = default;
  virtual absl::Status Record(const ObjectRef& object, EventType type,
                              const std::string& reason,
                              const std::string& message, absl::Time at) = 0;
};

}  // namespace smartcanary::notify

#endif  // SMARTCANARY_CONTROLLER_NOTIFY_EVENT_RECORDER_H_
