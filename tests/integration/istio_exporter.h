#ifndef SMARTCANARY_TESTS_INTEGRATION_ISTIO_EXPORTER_H_
#define SMARTCANARY_TESTS_INTEGRATION_ISTIO_EXPORTER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/http/http_server.h"

// A stand-in for Istio's sidecars as Prometheus sees them: an exporter of
// istio_requests_total (reporter="destination") for a few workloads, whose
// counters grow in real time at a set request rate and 5xx share.
namespace smartcanary::testing {

struct IstioArm {
  // Extra labels, e.g. {{"destination_workload", "podinfo"}}.
  std::map<std::string, std::string> labels;
  double requests_per_second = 50;
  double error_share = 0.01;  // of requests answered 503
};

class IstioExporter {
 public:
  explicit IstioExporter(std::vector<IstioArm> arms);
  std::string target() const;  // host:port for Prometheus to scrape
  // From now on arm `index` fails this share of its requests.
  void SetErrorShare(size_t index, double share);
  // From now on arm `index` serves this many requests a second.
  void SetRequestsPerSecond(size_t index, double rps);

 private:
  struct Counts {
    double ok = 0, errors = 0;
  };
  void Advance() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Render();

  absl::Mutex mu_;
  std::vector<IstioArm> arms_ ABSL_GUARDED_BY(mu_);
  std::vector<Counts> counts_ ABSL_GUARDED_BY(mu_);
  absl::Time last_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<http::HttpServer> server_;
  int port_ = 0;
};

}  // namespace smartcanary::testing

#endif  // SMARTCANARY_TESTS_INTEGRATION_ISTIO_EXPORTER_H_
