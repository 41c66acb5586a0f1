#ifndef SMARTCANARY_BENCH_APISERVER_REQUESTS_H_
#define SMARTCANARY_BENCH_APISERVER_REQUESTS_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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
