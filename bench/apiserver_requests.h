#ifndef SMARTCANARY_BENCH_APISERVER_REQUESTS_H_
#define SMARTCANARY_BENCH_APISERVER_REQUESTS_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "controller/kube/kube_config.h"

namespace smartcanary::bench {

// apiserver_request_total as counts: `by_request` keyed "VERB resource" or
// "VERB resource/subresource" (verbs as the API server labels them: GET,
// LIST, WATCH, POST, PATCH, PUT, DELETE), summed over response codes;
// `by_code` keyed "CODE VERB resource[/subresource]". Only the resources
// canaryd touches are kept: non-resource requests (/metrics, /readyz) and
// the API server's own loops (its lease, endpoints, informers) are left out.
// WATCH is counted when a watch ends, not when it starts.
struct RequestCounts {
  std::map<std::string, double> by_request;
  std::map<std::string, double> by_code;

  void Add(const std::string& request, double count = 1) {
    by_request[request] += count;
  }
  double Total() const;
};

// A benchmark's own API requests, counted from its threads, to subtract
// from the API server's counts so that what is left is the controller's.
class OwnRequests {
 public:
  void Add(const std::string& request, int count = 1) {
    absl::MutexLock lock(&mu_);
    counts_.Add(request, count);
  }
  RequestCounts counts() const {
    absl::MutexLock lock(&mu_);
    return counts_;
  }

 private:
  mutable absl::Mutex mu_;
  RequestCounts counts_ ABSL_GUARDED_BY(mu_);
};

RequestCounts ParseApiserverRequests(absl::string_view metrics_text);

// GET /metrics on the API server of `config` with its credentials.
absl::StatusOr<RequestCounts> ReadApiserverRequests(
    const kube::KubeConfig& config);

// after - before - own (the benchmark's own requests), per key; zero rows
// are dropped.
RequestCounts Difference(const RequestCounts& after,
                         const RequestCounts& before, const RequestCounts& own);

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_APISERVER_REQUESTS_H_
