#ifndef SMARTCANARY_CONTROLLER_KUBE_KUBE_EVENT_RECORDER_H_
#define SMARTCANARY_CONTROLLER_KUBE_KUBE_EVENT_RECORDER_H_

#include <string>

#include "absl/synchronization/mutex.h"
#include "controller/kube/kube_api.h"
#include "controller/notify/event_aggregator.h"
#include "controller/notify/event_recorder.h"
#include "nlohmann/json.hpp"

namespace smartcanary::kube {

// Writes core/v1 Events (what `kubectl describe` and `kubectl get events`
// show) about the object, aggregated by notify::EventAggregator: a repeat
// patches the Event's count and lastTimestamp instead of creating another.
// Needs create, get and patch on events in the object's namespace.
class KubeEventRecorder : public notify::EventRecorder {
 public:
  // `component` is the Event's source.component and reportingComponent;
  // `instance` its reportingInstance (the pod's name).
  KubeEventRecorder(const KubeApi& client, std::string component,
                    std::string instance,
                    notify::AggregatorOptions options = {});

  absl::Status Record(const notify::ObjectRef& object, notify::EventType type,
                      const std::string& reason, const std::string& message,
                      absl::Time at) override;

  // The Event object for a new occurrence. Pure.
  static nlohmann::json EventJson(const notify::ObjectRef& object,
                                  notify::EventType type,
                                  const std::string& reason,
                                  const notify::EventWrite& write,
                                  const std::string& component,
                                  const std::string& instance);

 private:
  absl::Status Create(const notify::ObjectRef& object, notify::EventType type,
                      const std::string& reason, notify::EventWrite write);
  absl::Status Repeat(const notify::ObjectRef& object,
                      const notify::EventWrite& write);

  const KubeApi& client_;
  const std::string component_;
  const std::string instance_;
  absl::Mutex mu_;
  notify::EventAggregator aggregator_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smartcanary::kube

#endif  // SMARTCANARY_CONTROLLER_KUBE_KUBE_EVENT_RECORDER_H_
