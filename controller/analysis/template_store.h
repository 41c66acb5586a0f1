#ifndef SMARTCANARY_CONTROLLER_ANALYSIS_TEMPLATE_STORE_H_
#define SMARTCANARY_CONTROLLER_ANALYSIS_TEMPLATE_STORE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/analysis/analysis_spec.h"
#include "controller/kube/kube_api.h"
#include "controller/rollout_spec.h"

namespace smartcanary {

// The metrics an analysis reference stands for, with its args.
struct ResolvedAnalysis {
  std::vector<MetricSpec> metrics;
  std::map<std::string, std::string> args;
};

// Reads CanaryAnalysisTemplates and ClusterCanaryAnalysisTemplates from the
// API server. Every error is FAILED_PRECONDITION (or INVALID_ARGUMENT for a
// bad template) naming the reference's field, the template and the metric.
class TemplateStore {
 public:
  explicit TemplateStore(const kube::KubeApi& client) : client_(client) {}

  absl::StatusOr<ResolvedAnalysis> Resolve(const std::string& ns,
                                           const AnalysisRef& ref,
                                           const std::string& where) const;

  // Every analysis the spec references resolves, and every query and
  // condition parses once args are substituted: checked when a rollout is
  // submitted and when a new rollout starts, never discovered mid-rollout.
  absl::Status ValidateSpec(const std::string& ns,
                            const RolloutSpec& spec) const;

 private:
  const kube::KubeApi& client_;
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ANALYSIS_TEMPLATE_STORE_H_
