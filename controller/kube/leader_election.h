#ifndef SMARTCANARY_CONTROLLER_KUBE_LEADER_ELECTION_H_
#define SMARTCANARY_CONTROLLER_KUBE_LEADER_ELECTION_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/kube/kube_config.h"
#include "controller/kube/lease_decision.h"

namespace smartcanary::kube {

struct LeaderElectionConfig {
  std::string lease_namespace;
  std::string lease_name;
  std::string identity;  // unique per process: see DefaultLeaderIdentity()
  LeaseTiming timing;
};

// Called on the elector's thread (or Stop()'s caller); keep them short and
// never call Stop() from one (it joins that thread).
struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  // Leadership lost (renew deadline passed, or another holder seen) or
  // Stop(). The process must stop writing; IsLeader() already says false.
  std::function<void()> on_stopped_leading;
  // The holder seen in the Lease changed ("" when released).
  std::function<void(const std::string&)> on_new_leader;
};

// "<hostname>_<random hex>": the pod name in Kubernetes, and distinct for a
// restarted process, which must not inherit its predecessor's lease.
std::string DefaultLeaderIdentity();

// Leader election on a coordination.k8s.io/v1 Lease, as client-go does it:
// create when absent (POST), renew or take over with PUT carrying the
// resourceVersion read (a 409 means another candidate won), take over only a
// record released or unchanged for its leaseDurationSeconds by this host's
// own clock of observation. Leadership that is lost can be won again later:
// the callbacks alternate.
class LeaderElector {
 public:
  // Checks the config (namespace, name, identity, timing); does no I/O.
  static absl::StatusOr<std::unique_ptr<LeaderElector>> Create(
      KubeConfig kube, LeaderElectionConfig config,
      LeaderCallbacks callbacks = {});
  ~LeaderElector();  // Stop(/*release=*/true)

  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Starts trying to acquire on a thread of its own.
  void Start();
  // Stops the thread and, if leading, calls on_stopped_leading; then, with
  // `release`, hands the lease back so a standby takes it at its next retry
  // (false: leave it to expire, as a killed process would). Idempotent.
  void Stop(bool release = true);

  // The fence: true only while the last successful renew started less than
  // the renew deadline ago (by the monotonic clock, whatever the thread is
  // blocked on). Check it before every write.
  bool IsLeader() const;
  // The holder last seen in the Lease ("" unknown or released).
  std::string LeaderIdentity() const;
  const std::string& identity() const { return config_.identity; }

 private:
  LeaderElector(KubeConfig kube, LeaderElectionConfig config,
                LeaderCallbacks callbacks);
  void Run();
  // One read-decide-write round; returns whether it acquired or renewed.
  bool TryAcquireOrRenew();
  // After a round: drops leadership whose renew deadline has passed.
  void CheckDeadline();
  void Release();
  std::string Path() const;
  absl::Duration RequestTimeout() const;
  void SetLeaderLocked(const std::string& holder,
                       std::optional<std::string>* changed);

  const KubeConfig kube_;
  const LeaderElectionConfig config_;
  const LeaderCallbacks callbacks_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool leading_ = false;
  absl::Time last_renew_ = absl::InfinitePast();  // monotonic
  Observation observed_;
  std::string resource_version_;  // of the Lease as last read or written
  std::string leader_;
  std::thread thread_;
};

}  // namespace smartcanary::kube

#endif  // SMARTCANARY_CONTROLLER_KUBE_LEADER_ELECTION_H_
