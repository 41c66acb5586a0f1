// The counting wrapper in front of the analyzer forwards every RPC: one it
// does not override answers UNIMPLEMENTED, which is how Backtest and
// Preflight were lost once.
#include "analysis/http/analyzer_metrics.h"

#include <string>

#include "gtest/gtest.h"

namespace smartcanary::analysis::http {
namespace {

class AnsweringService final : public v1::AnalysisService::Service {
 public:
  grpc::Status Analyze(grpc::ServerContext*, const v1::AnalyzeRequest*,
                       v1::AnalyzeResponse*) override {
    return grpc::Status::OK;
  }
  grpc::Status Validate(grpc::ServerContext*, const v1::AnalyzeRequest*,
                        v1::ValidateResponse*) override {
    return grpc::Status::OK;
  }
  grpc::Status Backtest(grpc::ServerContext*, const v1::BacktestRequest*,
                        v1::BacktestResponse*) override {
    return grpc::Status::OK;
  }
  grpc::Status Preflight(grpc::ServerContext*, const v1::PreflightRequest*,
                         v1::PreflightResponse*) override {
    return grpc::Status::OK;
  }
};

TEST(CountedAnalysisServiceTest, ForwardsEveryRpcAndCountsIt) {
  AnsweringService inner;
  AnalyzerMetrics metrics;
  CountedAnalysisService counted(&inner, &metrics);
  grpc::ServerContext context;
  v1::AnalyzeRequest analyze;
  v1::AnalyzeResponse analyzed;
  v1::ValidateResponse validated;
  v1::BacktestRequest backtest;
  v1::BacktestResponse backtested;
  v1::PreflightRequest preflight;
  v1::PreflightResponse preflighted;
  EXPECT_TRUE(counted.Analyze(&context, &analyze, &analyzed).ok());
  EXPECT_TRUE(counted.Validate(&context, &analyze, &validated).ok());
  EXPECT_TRUE(counted.Backtest(&context, &backtest, &backtested).ok());
  EXPECT_TRUE(counted.Preflight(&context, &preflight, &preflighted).ok());
  const std::string text = metrics.Render();
  for (const char* rpc : {"Analyze", "Validate", "Backtest", "Preflight"}) {
    EXPECT_NE(text.find(std::string("endpoint=\"") + rpc + "\",code=\"OK\""),
              std::string::npos)
        << rpc << " not counted:\n"
        << text;
  }
}

}  // namespace
}  // namespace smartcanary::analysis::http
