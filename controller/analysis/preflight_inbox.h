#ifndef SMARTCANARY_CONTROLLER_ANALYSIS_PREFLIGHT_INBOX_H_
#define SMARTCANARY_CONTROLLER_ANALYSIS_PREFLIGHT_INBOX_H_

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "controller/preflight_status.h"

namespace smartcanary {

// Pre-flights in flight and delivered, per rollout, between the reconcile
// that asks and the reconcile that writes the answer to the status: the
// analyzer's callback delivers here from gRPC's threads and wakes the
// rollout, so no reconcile waits on the analyzer.
class PreflightInbox {
 public:
  using Wake = std::function<void(const std::string& key)>;
  explicit PreflightInbox(Wake wake) : wake_(std::move(wake)) {}

  // Reserves the rollout's slot; false while one is in flight or delivered
  // and not yet taken (one at a time per rollout).
  bool Begin(const std::string& key);
  bool Busy(const std::string& key);
  // The answer; wakes the rollout.
  void Deliver(const std::string& key, PreflightStatus result);
  // The delivered answer, if any; frees the slot.
  std::optional<PreflightStatus> Take(const std::string& key);
  void Forget(const std::string& key);
  // No more wakes (canaryd is stopping; calls may still be in flight).
  void Close();

 private:
  absl::Mutex mu_;
  // nullopt: in flight.
  std::map<std::string, std::optional<PreflightStatus>> slots_
      ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  Wake wake_;
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ANALYSIS_PREFLIGHT_INBOX_H_
