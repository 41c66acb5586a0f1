#ifndef SMARTCANARY_ANALYSIS_ANALYZER_SERVICE_H_
#define SMARTCANARY_ANALYSIS_ANALYZER_SERVICE_H_

#include <functional>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "analysis/address_policy.h"
#include "analysis/comparative.h"
#include "analysis/credential_path.h"
#include "smartcanary/v1/analysis.grpc.pb.h"

namespace smartcanary::analysis {

// The operator's limits on what templates may make the analyzer do.
struct AnalyzerConfig {
  AddressPolicy address_policy =
      AddressPolicy::Default();                          // --allowed-prometheus
  std::string credentials_dir = kDefaultCredentialsDir;  // --credentials-dir
  // Every Prometheus call's outcome, for /metrics (PrometheusOptions).
  std::function<void(const std::string& path, absl::Duration took,
                     const absl::Status& outcome)>
      observe_query;
};

// Checks what can be checked before a metric runs: conditions parse, args
// resolve, a provider is given, its address and credential files are within
// `config`. The error names the metric and the field.
absl::Status ValidateMetrics(const v1::AnalyzeRequest& request,
                             const AnalyzerConfig& config);

// One comparative measurement: the four counters over [the canary's first
// weight in `context` (else analysis_started_at), now] at the provider's
// resolution, coarser for a long bake's older tiers, judged by
// JudgeComparative. `metric` must have passed ValidateMetrics. The gRPC
// Analyze and the HTTP API (analysis/http) both measure through this.
ComparativeVerdict MeasureComparative(
    const v1::Metric& metric, const std::map<std::string, std::string>& args,
    const v1::RolloutContext& context, const std::function<bool()>& cancelled,
    const AnalyzerConfig& config, bool check_routing = true);

// gRPC AnalysisService: one measurement per metric, recomputed from
// Prometheus on every call.
class AnalyzerService final : public v1::AnalysisService::Service {
 public:
  explicit AnalyzerService(AnalyzerConfig config = {})
      : config_(std::move(config)) {}
  grpc::Status Analyze(grpc::ServerContext*, const v1::AnalyzeRequest*,
                       v1::AnalyzeResponse*) override;
  grpc::Status Validate(grpc::ServerContext*, const v1::AnalyzeRequest*,
                        v1::ValidateResponse*) override;
  // The live judge over history (docs/BACKTEST.md).
  grpc::Status Backtest(grpc::ServerContext*, const v1::BacktestRequest*,
                        v1::BacktestResponse*) override;
  // The stable's rates and the pre-flight times (docs/BACKTEST.md).
  grpc::Status Preflight(grpc::ServerContext*, const v1::PreflightRequest*,
                         v1::PreflightResponse*) override;

 private:
  // The handlers; the overrides above only add the exception boundary.
  grpc::Status AnalyzeUnguarded(grpc::ServerContext*, const v1::AnalyzeRequest*,
                                v1::AnalyzeResponse*);
  grpc::Status ValidateUnguarded(grpc::ServerContext*,
                                 const v1::AnalyzeRequest*,
                                 v1::ValidateResponse*);
  grpc::Status BacktestUnguarded(grpc::ServerContext*,
                                 const v1::BacktestRequest*,
                                 v1::BacktestResponse*);
  grpc::Status PreflightUnguarded(grpc::ServerContext*,
                                  const v1::PreflightRequest*,
                                  v1::PreflightResponse*);

  AnalyzerConfig config_;
};

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_ANALYZER_SERVICE_H_
