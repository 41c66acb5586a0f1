#ifndef SMARTCANARY_ANALYSIS_ANALYZER_SERVICE_H_
#define SMARTCANARY_ANALYSIS_ANALYZER_SERVICE_H_

#include "absl/status/status.h"
#include "smartcanary/v1/analysis.grpc.pb.h"

namespace smartcanary::analysis {

// Checks what can be checked before a metric runs: conditions parse, args
// resolve, a provider is given. INVALID_ARGUMENT names the metric.
absl::Status ValidateMetrics(const v1::AnalyzeRequest& request);

// gRPC AnalysisService: one measurement per metric, recomputed from
// Prometheus on every call.
class AnalyzerService final : public v1::AnalysisService::Service {
 public:
  grpc::Status Analyze(grpc::ServerContext*, const v1::AnalyzeRequest*,
                       v1::AnalyzeResponse*) override;
  grpc::Status Validate(grpc::ServerContext*, const v1::AnalyzeRequest*,
                        v1::ValidateResponse*) override;

 private:
  // The handlers; the overrides above only add the exception boundary.
  grpc::Status AnalyzeUnguarded(grpc::ServerContext*, const v1::AnalyzeRequest*,
                                v1::AnalyzeResponse*);
  grpc::Status ValidateUnguarded(grpc::ServerContext*,
                                 const v1::AnalyzeRequest*,
                                 v1::ValidateResponse*);
};

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_ANALYZER_SERVICE_H_
