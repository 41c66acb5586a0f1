#ifndef SMARTCANARY_CONTROLLER_ANALYSIS_MEASUREMENT_INBOX_H_
#define SMARTCANARY_CONTROLLER_ANALYSIS_MEASUREMENT_INBOX_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/analysis/analyzer_client.h"

namespace smartcanary {

// Which measurements a decision asked for: a batch's results are recorded
// only into the runs it was taken for (a new spec, a restarted run or a
// finished step makes them stale).
struct BatchId {
  int64_t generation = 0;
  int step_index = -1;
  std::optional<absl::Time> step_run_started;
  std::optional<absl::Time> background_run_started;
  std::vector<std::string> step_metrics;
  std::vector<std::string> background_metrics;
  bool operator==(const BatchId&) const = default;
};

struct MeasuredBatch {
  std::vector<NamedMeasurement> step;
  std::vector<NamedMeasurement> background;
};

// Measurements in flight and delivered, per rollout, between the reconcile
// that asks for them and the reconcile that records them. Analyzer callbacks
// deliver here from gRPC's threads and wake the rollout; workers never wait.
class MeasurementInbox {
 public:
  using Wake = std::function<void(const std::string& key)>;
  explicit MeasurementInbox(Wake wake) : wake_(std::move(wake)) {}

  // Reserves the rollout's slot for a batch of `calls` analyzer calls.
  // False when a batch is already in flight (one at a time per rollout).
  bool Begin(const std::string& key, const BatchId& id, int calls);
  // One call's results; the last call of a batch wakes the rollout.
  void Deliver(const std::string& key, bool background,
               std::vector<NamedMeasurement> results);
  // The finished batch for `id`; a finished batch for another id is stale
  // and dropped, so the caller can Begin a fresh one.
  std::optional<MeasuredBatch> Take(const std::string& key, const BatchId& id);
  void Forget(const std::string& key);
  // No more wakes (canaryd is stopping; calls may still be in flight).
  void Close();

 private:
  struct Slot {
    BatchId id;
    int pending = 0;
    MeasuredBatch batch;
  };
  absl::Mutex mu_;
  std::map<std::string, Slot> slots_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  Wake wake_;
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ANALYSIS_MEASUREMENT_INBOX_H_
