#include "analysis/caller_auth.h"

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace smartcanary::analysis {

grpc::Status CheckCaller(const grpc::ServerContext& context,
                         const TokenFile& token) {
  constexpr absl::string_view kBearer = "Bearer ";
  const auto& metadata = context.client_metadata();
  auto header = metadata.find("authorization");
  if (header != metadata.end()) {
    const absl::string_view value(header->second.data(), header->second.size());
    if (absl::StartsWith(value, kBearer) &&
        ConstantTimeEquals(value.substr(kBearer.size()), token.Current())) {
      return grpc::Status::OK;
    }
  }
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      "canary-analyzer answers only canaryd: send the shared "
                      "token as `authorization: Bearer <token>`");
}

grpc::Status AuthenticatedAnalysisService::Analyze(
    grpc::ServerContext* context, const v1::AnalyzeRequest* request,
    v1::AnalyzeResponse* response) {
  if (grpc::Status s = CheckCaller(*context, *token_); !s.ok()) return s;
  return inner_->Analyze(context, request, response);
}

grpc::Status AuthenticatedAnalysisService::Validate(
    grpc::ServerContext* context, const v1::AnalyzeRequest* request,
    v1::ValidateResponse* response) {
  if (grpc::Status s = CheckCaller(*context, *token_); !s.ok()) return s;
  return inner_->Validate(context, request, response);
}

grpc::Status AuthenticatedAnalysisService::Backtest(
    grpc::ServerContext* context, const v1::BacktestRequest* request,
    v1::BacktestResponse* response) {
  if (grpc::Status s = CheckCaller(*context, *token_); !s.ok()) return s;
  return inner_->Backtest(context, request, response);
}

grpc::Status AuthenticatedAnalysisService::Preflight(
    grpc::ServerContext* context, const v1::PreflightRequest* request,
    v1::PreflightResponse* response) {
  if (grpc::Status s = CheckCaller(*context, *token_); !s.ok()) return s;
  return inner_->Preflight(context, request, response);
}

}  // namespace smartcanary::analysis
