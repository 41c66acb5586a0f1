#ifndef SMARTCANARY_CONTROLLER_GRAFANA_ANNOTATOR_H_
#define SMARTCANARY_CONTROLLER_GRAFANA_ANNOTATOR_H_

#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/http_transport.h"
#include "controller/metrics.h"
#include "controller/rollout_events.h"
#include "nlohmann/json.hpp"

namespace smartcanary::grafana {

struct AnnotatorOptions {
  std::string url;         // Grafana's base URL
  std::string token_file;  // service account token (Bearer)
  std::string dashboard_uid;
  int retries = 3;  // after the first try
  size_t queue_limit = 1000;
  absl::Duration timeout = absl::Seconds(5);  // one post
};

// Posts one annotation per rollout event to Grafana's HTTP annotations API
// (POST /api/annotations) from a thread of its own: a slow or failing
// Grafana never blocks or slows a rollout. Failed posts (429, 5xx, lost
// connections) are retried with backoff, honouring Retry-After, then dropped
// and counted (canaryd_annotation_failures_total).
class Annotator : public EventSink {
 public:
  Annotator(AnnotatorOptions options, Metrics& metrics);
  ~Annotator() override;

  void Publish(const CanaryRollout& rollout,
               const std::vector<RolloutEvent>& events) override;

  // The request body for one event (Grafana's documented fields).
  static nlohmann::json AnnotationJson(const CanaryRollout& rollout,
                                       const RolloutEvent& event, absl::Time at,
                                       const std::string& dashboard_uid);

 private:
  void Run();
  absl::Status Post(const std::string& body, const std::string& token);
  bool stopping() const;

  AnnotatorOptions options_;
  Metrics& metrics_;
  HttpTransport transport_;
  mutable absl::Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace smartcanary::grafana

#endif  // SMARTCANARY_CONTROLLER_GRAFANA_ANNOTATOR_H_
