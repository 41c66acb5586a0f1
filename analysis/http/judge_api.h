#ifndef SMARTCANARY_ANALYSIS_HTTP_JUDGE_API_H_
#define SMARTCANARY_ANALYSIS_HTTP_JUDGE_API_H_

#include <functional>

#include "analysis/analyzer_service.h"
#include "analysis/http/analyzer_metrics.h"
#include "common/token_file.h"
#include "controller/http/http_server.h"

// The analyzer's HTTP JSON API: the comparative judge for Argo Rollouts'
// web metric provider (POST /v1/judge) and Flagger's webhooks
// (POST /v1/flagger), plus /metrics and /healthz. docs/INTEROP.md shows
// both callers' configuration.
namespace smartcanary::analysis::http {

// Bodies above this are refused with 413 before they are read: a judge
// request is a few hundred bytes.
inline constexpr size_t kMaxBodyBytes = 64 * 1024;

struct JudgeApiOptions {
  AnalyzerConfig config;  // the same allowlist and credentials dir as gRPC
  // Callers must send `Authorization: Bearer <token>`; nullptr answers any
  // caller (--http-allow-unauthenticated, for Flagger, which cannot send
  // headers: then a NetworkPolicy must say who reaches the port).
  const TokenFile* token = nullptr;
  AnalyzerMetrics* metrics = nullptr;  // required
  // True once the analyzer is stopping: running queries are abandoned.
  std::function<bool()> stopping;
};

class JudgeApi {
 public:
  explicit JudgeApi(JudgeApiOptions options);
  // Registers /v1/judge, /v1/flagger, /metrics and /healthz.
  void Register(smartcanary::http::HttpServer& server) const;
  // The handlers, for tests without a socket.
  smartcanary::http::Response Judge(
      const smartcanary::http::Request& request) const;
  smartcanary::http::Response Flagger(
      const smartcanary::http::Request& request) const;

 private:
  smartcanary::http::Response Serve(const smartcanary::http::Request& request,
                                    bool flagger) const;
  smartcanary::http::Response ServeUnguarded(
      const smartcanary::http::Request& request, bool flagger) const;

  JudgeApiOptions options_;
};

// /metrics and /healthz alone, for a listener without the judge API
// (--metrics-listen), so the analyzer can be scraped without opening it.
void RegisterMetricsAndHealth(smartcanary::http::HttpServer& server,
                              AnalyzerMetrics* metrics);

// Server limits for the API's listener: small bodies, few headers.
smartcanary::http::ServerOptions JudgeServerOptions();

}  // namespace smartcanary::analysis::http

#endif  // SMARTCANARY_ANALYSIS_HTTP_JUDGE_API_H_
