#ifndef SMARTCANARY_BENCH_ARGO_COMPARE_REPORT_H_
#define SMARTCANARY_BENCH_ARGO_COMPARE_REPORT_H_

#include <string>
#include <vector>

#include "bench/apiserver_requests.h"
#include "bench/argo/compare_run.h"

// The side-by-side benchmark's arithmetic and its Markdown; no cluster.
namespace smartcanary::bench::argo {

// One N: canaryd's run and Argo's.
struct ComparePair {
  SideResult ours;
  SideResult argo;
};

// The controller's own requests from the API server's counts in a window:
// without the ReplicaSet status writes (kube-controller-manager's, which
// runs beside Argo only because no kubelet does).
RequestCounts ControllerRequests(const RequestCounts& counts);

// ours / theirs; nullopt when theirs is zero or either is missing.
std::optional<double> Ratio(std::optional<double> ours,
                            std::optional<double> theirs);

// p-th percentile (0..1) of `values`, nullopt when there are none.
std::optional<double> PercentileOf(const std::vector<double>& values, double p);

// API requests per executed plan step.
std::optional<double> RequestsPerStep(const SideResult& side);

// The ratio table (ours / Argo's, with the targets), then the raw figures
// and the requests by verb and resource.
std::string RenderComparison(const std::vector<ComparePair>& pairs);

}  // namespace smartcanary::bench::argo

#endif  // SMARTCANARY_BENCH_ARGO_COMPARE_REPORT_H_
