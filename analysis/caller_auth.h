#ifndef SMARTCANARY_ANALYSIS_CALLER_AUTH_H_
#define SMARTCANARY_ANALYSIS_CALLER_AUTH_H_

#include <grpcpp/grpcpp.h>

#include "common/token_file.h"
#include "smartcanary/v1/analysis.grpc.pb.h"

namespace smartcanary::analysis {

// Whether the call carries `authorization: Bearer <token>` with the shared
// token: UNAUTHENTICATED otherwise (without saying which part was wrong).
grpc::Status CheckCaller(const grpc::ServerContext& context,
                         const TokenFile& token);

// The AnalysisService answering only canaryd: every call must present the
// shared token (--client-token-file) before `inner` sees it. The analyzer
// fetches from the network with the credentials it is given, so an
// unauthenticated caller could use it to probe what it can reach.
class AuthenticatedAnalysisService final : public v1::AnalysisService::Service {
 public:
  AuthenticatedAnalysisService(v1::AnalysisService::Service* inner,
                               const TokenFile* token)
      : inner_(inner), token_(token) {}

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
  v1::AnalysisService::Service* inner_;
  const TokenFile* token_;
};

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_CALLER_AUTH_H_
