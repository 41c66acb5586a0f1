#ifndef SMARTCANARY_CONTROLLER_CONTROLLER_H_
#define SMARTCANARY_CONTROLLER_CONTROLLER_H_

#include <atomic>
#include <map>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "controller/kube/kube_client.h"
#include "controller/metrics.h"
#include "controller/reconciler.h"
#include "controller/work_queue.h"

namespace smartcanary {

// Lists and watches CanaryRollouts and reconciles each changed or due one.
// The watch resumes from its last resourceVersion and re-lists when the API
// server says that version is gone (410). A failing rollout is retried with
// its own backoff and never holds up another.
class Controller {
 public:
  Controller(const kube::KubeClient& client, Reconciler& reconciler,
             std::string ns, Metrics& metrics);
  ~Controller();

  void Start();
  void Stop();
  // Reconcile this rollout now (after a command changed its status).
  void Trigger(const std::string& ns, const std::string& name);

 private:
  void WatchLoop();
  void WorkLoop();
  // Lists every rollout, queues each, and returns the list's resourceVersion.
  absl::StatusOr<std::string> ListAndQueue();
  void Sleep(absl::Duration duration);

  const kube::KubeClient& client_;
  Reconciler& reconciler_;
  std::string namespace_;
  WorkQueue queue_;
  std::atomic<bool> stopping_{false};
  std::thread watcher_;
  std::thread worker_;
  std::map<std::string, int> failures_;  // worker thread only
  Metrics& metrics_;
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_CONTROLLER_H_
