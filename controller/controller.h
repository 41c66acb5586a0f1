#ifndef SMARTCANARY_CONTROLLER_CONTROLLER_H_
#define SMARTCANARY_CONTROLLER_CONTROLLER_H_

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "controller/kube/cached_kube_api.h"
#include "controller/kube/kube_api.h"
#include "controller/kube/resources.h"
#include "controller/metrics.h"
#include "controller/reconciler.h"
#include "controller/work_queue.h"

namespace smartcanary {

// Lists and watches CanaryRollouts, and the VirtualServices and
// DestinationRules they route through, and reconciles each changed or due
// rollout on a pool of workers (one rollout is never reconciled by two
// workers at once). A watch resumes from its last resourceVersion and
// re-lists when the API server says that version is gone (410). A failing
// rollout is retried with its own backoff and never holds up another; a
// mesh object changed by someone else wakes the rollouts that use it, so
// drifted weights are put back at once.
//
// With a `cache`, every list and event is stored in it before the rollout
// it concerns is queued, so the reconcile reads what woke it; the analysis
// templates are watched for it too (best effort: a template watch that
// fails leaves that kind uncached and holds neither /readyz nor /healthz).
class Controller {
 public:
  Controller(const kube::KubeApi& client, Reconciler& reconciler,
             std::string ns, Metrics& metrics, int workers,
             kube::CachedKubeApi* cache = nullptr);
  ~Controller();

  void Start();
  void Stop();
  // Reconcile this rollout after `delay` (a command's or measurement's
  // follow-up).
  void Trigger(const std::string& ns, const std::string& name,
               absl::Duration delay = absl::ZeroDuration());
  void Trigger(const std::string& key);
  // OK while every watch has shown life recently and no worker has been
  // busy with one reconcile for minutes (for /healthz): a stuck loop makes
  // canaryd restart.
  absl::Status Healthy(absl::Time now) const;
  // Every rollout and mesh watch has listed once (for /readyz).
  bool Synced() const;

 private:
  using OnObject =
      std::function<void(const std::string& type, const nlohmann::json&)>;
  // List + watch of one kind until Stop; `on_object` sees every listed item
  // (type "LISTED") and every watch event but bookmarks.
  void ListWatch(const kube::Resource& resource, int loop,
                 const OnObject& on_object);
  void WorkLoop(int loop);
  void Sleep(absl::Duration duration);
  void Beat(int loop);

  const kube::KubeApi& client_;
  Reconciler& reconciler_;
  std::string namespace_;
  WorkQueue queue_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
  int workers_;
  kube::CachedKubeApi* cache_;  // may be null
  mutable absl::Mutex mu_;
  std::map<std::string, int> failures_ ABSL_GUARDED_BY(mu_);
  // Watches first: last sign of life. Then workers: when the reconcile in
  // hand began (InfiniteFuture while idle). Then the template watches,
  // which gate nothing.
  std::vector<absl::Time> beats_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> listed_ ABSL_GUARDED_BY(mu_);
  Metrics& metrics_;
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_CONTROLLER_H_
