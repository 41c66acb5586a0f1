#include "analysis/http/analyzer_metrics.h"

#include "absl/strings/str_cat.h"

namespace smartcanary::analysis::http {
namespace {

constexpr char kRequests[] = "canary_analyzer_requests_total";
constexpr char kVerdicts[] = "canary_analyzer_verdicts_total";
constexpr char kQuerySeconds[] = "canary_analyzer_prometheus_query_seconds";
constexpr char kQueryErrors[] = "canary_analyzer_prometheus_errors_total";

const char* GrpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    default:
      return "OTHER";
  }
}

const char* PhaseName(v1::MeasurementPhase phase) {
  switch (phase) {
    case v1::SUCCESSFUL:
      return "Successful";
    case v1::FAILED:
      return "Failed";
    case v1::INCONCLUSIVE:
      return "Inconclusive";
    default:
      return "Error";
  }
}

}  // namespace

AnalyzerMetrics::AnalyzerMetrics() {
  registry_.DescribeCounter(kRequests,
                            "Requests answered, by API, endpoint (gRPC "
                            "method or HTTP path) and status code.");
  registry_.DescribeCounter(
      kVerdicts,
      "Measurements and judgements answered, by endpoint and phase.");
  // Prometheus answers in milliseconds when healthy; a long bake's range
  // queries and retries take seconds, and the timeout is 30s.
  registry_.DescribeHistogram(
      kQuerySeconds,
      "Prometheus API calls' duration (with retries), by API path.",
      {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  registry_.DescribeCounter(
      kQueryErrors,
      "Prometheus API calls that failed, by API path and status code.");
}

void AnalyzerMetrics::Request(const std::string& api,
                              const std::string& endpoint,
                              const std::string& code) {
  registry_.Count(
      kRequests,
      MetricLabels({{"api", api}, {"endpoint", endpoint}, {"code", code}}));
}

void AnalyzerMetrics::Verdict(const std::string& endpoint,
                              const std::string& phase) {
  registry_.Count(kVerdicts,
                  MetricLabels({{"endpoint", endpoint}, {"phase", phase}}));
}

void AnalyzerMetrics::Query(const std::string& path, absl::Duration took,
                            const absl::Status& outcome) {
  registry_.Observe(kQuerySeconds, MetricLabels({{"path", path}}),
                    absl::ToDoubleSeconds(took));
  if (!outcome.ok()) {
    registry_.Count(
        kQueryErrors,
        MetricLabels({{"path", path},
                      {"code", absl::StatusCodeToString(outcome.code())}}));
  }
}

template <typename Request, typename Response>
grpc::Status CountedAnalysisService::Forward(
    const char* rpc,
    grpc::Status (v1::AnalysisService::Service::*method)(grpc::ServerContext*,
                                                         const Request*,
                                                         Response*),
    grpc::ServerContext* context, const Request* request, Response* response) {
  grpc::Status status = (inner_->*method)(context, request, response);
  metrics_->Request("grpc", rpc, GrpcCodeName(status.error_code()));
  return status;
}

grpc::Status CountedAnalysisService::Analyze(grpc::ServerContext* context,
                                             const v1::AnalyzeRequest* request,
                                             v1::AnalyzeResponse* response) {
  grpc::Status status =
      Forward("Analyze", &v1::AnalysisService::Service::Analyze, context,
              request, response);
  if (status.ok()) {
    for (const v1::Measurement& m : response->measurements())
      metrics_->Verdict("Analyze", PhaseName(m.phase()));
  }
  return status;
}

grpc::Status CountedAnalysisService::Validate(grpc::ServerContext* context,
                                              const v1::AnalyzeRequest* request,
                                              v1::ValidateResponse* response) {
  return Forward("Validate", &v1::AnalysisService::Service::Validate, context,
                 request, response);
}

grpc::Status CountedAnalysisService::Backtest(
    grpc::ServerContext* context, const v1::BacktestRequest* request,
    v1::BacktestResponse* response) {
  return Forward("Backtest", &v1::AnalysisService::Service::Backtest, context,
                 request, response);
}

grpc::Status CountedAnalysisService::Preflight(
    grpc::ServerContext* context, const v1::PreflightRequest* request,
    v1::PreflightResponse* response) {
  return Forward("Preflight", &v1::AnalysisService::Service::Preflight, context,
                 request, response);
}

}  // namespace smartcanary::analysis::http
