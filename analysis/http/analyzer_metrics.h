#ifndef SMARTCANARY_ANALYSIS_HTTP_ANALYZER_METRICS_H_
#define SMARTCANARY_ANALYSIS_HTTP_ANALYZER_METRICS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/metrics_registry.h"
#include "smartcanary/v1/analysis.grpc.pb.h"

// The analyzer's own /metrics:
//   canary_analyzer_requests_total{api="grpc|http",endpoint,code}
//   canary_analyzer_verdicts_total{endpoint,phase}   (measurement phases)
//   canary_analyzer_prometheus_query_seconds{path}   (histogram)
//   canary_analyzer_prometheus_errors_total{path,code}
namespace smartcanary::analysis::http {

class AnalyzerMetrics {
 public:
  AnalyzerMetrics();
  void Request(const std::string& api, const std::string& endpoint,
               const std::string& code);
  void Verdict(const std::string& endpoint, const std::string& phase);
  void Query(const std::string& path, absl::Duration took,
             const absl::Status& outcome);
  uint64_t Get(const std::string& counter, const std::string& labels) const {
    return registry_.Get(counter, labels);
  }
  std::string Render() const { return registry_.Render(); }

 private:
  MetricsRegistry registry_;
};

// The AnalysisService counted: every call by RPC and gRPC code, every
// measurement by phase; `inner` (the token check, then the analyzer)
// answers. Every RPC must be forwarded here: one left out answers
// UNIMPLEMENTED (analyzer_metrics_test checks each).
class CountedAnalysisService final : public v1::AnalysisService::Service {
 public:
  CountedAnalysisService(v1::AnalysisService::Service* inner,
                         AnalyzerMetrics* metrics)
      : inner_(inner), metrics_(metrics) {}
  grpc::Status Analyze(grpc::ServerContext* context,
                       const v1::AnalyzeRequest* request,
                       v1::AnalyzeResponse* response) override;
  grpc::Status Validate(grpc::ServerContext* context,
                        const v1::AnalyzeRequest* request,
                        v1::ValidateResponse* response) override;
  grpc::Status Backtest(grpc::ServerContext* context,
                        const v1::BacktestRequest* request,
                        v1::BacktestResponse* response) override;
  grpc::Status Preflight(grpc::ServerContext* context,
                         const v1::PreflightRequest* request,
                         v1::PreflightResponse* response) override;

 private:
  // Calls `inner_`'s `method` and counts the call under `rpc`.
  template <typename Request, typename Response>
  grpc::Status Forward(const char* rpc,
                       grpc::Status (v1::AnalysisService::Service::*method)(
                           grpc::ServerContext*, const Request*, Response*),
                       grpc::ServerContext* context, const Request* request,
                       Response* response);

  v1::AnalysisService::Service* inner_;
  AnalyzerMetrics* metrics_;
};

}  // namespace smartcanary::analysis::http

#endif  // SMARTCANARY_ANALYSIS_HTTP_ANALYZER_METRICS_H_
