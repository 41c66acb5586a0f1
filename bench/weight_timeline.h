#ifndef SMARTCANARY_BENCH_WEIGHT_TIMELINE_H_
#define SMARTCANARY_BENCH_WEIGHT_TIMELINE_H_

#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/kube/kube_client.h"

namespace smartcanary::bench {

// Every weight change of every VirtualService in a namespace, as one
// Kubernetes watch sees it, stamped with the time the event arrived here:
// what a mesh's control plane would see. Weights are those of the first
// HTTP route's two destinations (stable, then canary).
class WeightTimeline {
 public:
  WeightTimeline(const kube::KubeClient& kube, std::string ns);
  ~WeightTimeline();
  WeightTimeline(const WeightTimeline&) = delete;
  WeightTimeline& operator=(const WeightTimeline&) = delete;

  // The first time at or after `after` that `name` showed stable/canary
  // weights `stable`/`canary`, waiting for it until `deadline`.
  std::optional<absl::Time> WaitFor(const std::string& name, int stable,
                                    int canary, absl::Time after,
                                    absl::Time deadline);
  // Ends the watch; WaitFor still answers from what was seen.
  void Stop();
  // LIST and WATCH requests this made (the benchmark's own, to subtract).
  int lists() const { return lists_.load(); }
  int watches() const { return watches_.load(); }

 private:
  struct Seen {
    absl::Time at;
    int stable;
    int canary;
  };
  void Record(const nlohmann::json& object, absl::Time at);
  void Run();
  std::optional<absl::Time> Find(const std::string& name, int stable,
                                 int canary, absl::Time after) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const kube::KubeClient& kube_;
  const std::string namespace_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::vector<Seen>> seen_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> stop_{false};
  std::atomic<int> lists_{0};
  std::atomic<int> watches_{0};
  std::thread thread_;
};

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_WEIGHT_TIMELINE_H_
