// canary-analyzer: the stateless gRPC AnalysisService.
#include <curl/curl.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "analysis/analyzer_service.h"
#include "analysis/caller_auth.h"
#include "analysis/http/analyzer_metrics.h"
#include "analysis/http/judge_api.h"
#include "common/flag_names.h"
#include "common/logging.h"
#include "common/tls_files.h"
#include "common/token_file.h"
#include "common/usage.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, grpc_listen, "0.0.0.0:9091",
          "address of the gRPC AnalysisService");
ABSL_FLAG(std::string, log_format, "text",
          "text (for people) or json (for clusters)");
ABSL_FLAG(std::string, allowed_prometheus,
          smartcanary::analysis::kDefaultAllowedPrometheus,
          "where queries may go: comma-separated host names, *.suffix "
          "wildcards and CIDRs; link-local addresses never, loopback only "
          "inside a listed CIDR");
ABSL_FLAG(std::string, credentials_dir,
          smartcanary::analysis::kDefaultCredentialsDir,
          "the only directory bearerTokenFile, basicAuth.passwordFile and "
          "caFile may name files in");
ABSL_FLAG(std::string, client_token_file, "",
          "file holding the token canaryd must present (re-read when it "
          "changes); required unless --insecure-no-auth");
ABSL_FLAG(std::string, tls_cert_file, "",
          "serve TLS with this certificate chain (PEM) and --tls-key-file, "
          "both re-read when they change; empty: plaintext, the token "
          "unencrypted on the wire");
ABSL_FLAG(std::string, tls_key_file, "", "the private key of --tls-cert-file");
ABSL_FLAG(bool, insecure_no_auth, false,
          "answer any caller (local development only)");
ABSL_FLAG(std::string, http_listen, "",
          "address of the HTTP JSON API (POST /v1/judge for Argo Rollouts' "
          "web provider, /v1/flagger for Flagger's webhooks) and of /metrics "
          "and /healthz, e.g. 0.0.0.0:9092; empty: no HTTP listener");
ABSL_FLAG(std::string, metrics_listen, "",
          "address of /metrics and /healthz alone (no judge API, no token), "
          "e.g. 0.0.0.0:9090; empty: none (they are also on --http-listen)");
ABSL_FLAG(std::string, http_token_file, "",
          "file holding the token HTTP API callers must send as "
          "`Authorization: Bearer <token>` (re-read when it changes)");
ABSL_FLAG(bool, http_allow_unauthenticated, false,
          "answer HTTP API callers without a token (Flagger's webhooks send "
          "none): restrict who reaches --http-listen with a NetworkPolicy");

namespace {
std::atomic<bool> g_stop{false};

// TLS when --tls-cert-file and --tls-key-file are given: gRPC re-reads the
// files every minute, so a renewed certificate needs no restart.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials() {
  const std::string cert = absl::GetFlag(FLAGS_tls_cert_file);
  const std::string key = absl::GetFlag(FLAGS_tls_key_file);
  if (cert.empty() != key.empty())
    return absl::InvalidArgumentError(
        "--tls-cert-file and --tls-key-file go together");
  if (cert.empty()) return grpc::InsecureServerCredentials();
  return smartcanary::ReloadingTlsCredentials(
      {cert, "--tls-cert-file", key, "--tls-key-file", "", ""},
      /*refresh_seconds=*/60);
}

// The token file a flag names; null (the error logged) if unusable.
std::unique_ptr<smartcanary::TokenFile> OpenToken(const char* flag,
                                                  const std::string& path) {
  auto opened = smartcanary::TokenFile::Open(path);
  if (!opened.ok()) {
    spdlog::error("{} {}", flag, std::string(opened.status().message()));
    return nullptr;
  }
  return std::move(*opened);
}

}  // namespace

int main(int argc, char** argv) {
  smartcanary::ConfigureUsage(
      "canary-analyzer",
      "Smart Canary's stateless analysis service. Answers canaryd's gRPC "
      "AnalysisService calls by querying Prometheus and judging canary against "
      "baseline.");
  std::vector<std::string> args = smartcanary::DashedFlagsToAbsl(argc, argv);
  std::vector<char*> absl_argv = smartcanary::ArgvOf(args);
  absl::ParseCommandLine(static_cast<int>(args.size()), absl_argv.data());
  if (absl::Status logging = smartcanary::ConfigureLogging(
          "canary-analyzer", absl::GetFlag(FLAGS_log_format));
      !logging.ok()) {
    std::cerr << logging << "\n";
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  auto policy = smartcanary::analysis::AddressPolicy::Parse(
      absl::GetFlag(FLAGS_allowed_prometheus));
  if (!policy.ok()) {
    spdlog::error("{}", std::string(policy.status().message()));
    return 2;
  }
  smartcanary::analysis::http::AnalyzerMetrics metrics;
  smartcanary::analysis::AnalyzerConfig config{
      *policy, absl::GetFlag(FLAGS_credentials_dir),
      [&metrics](const std::string& path, absl::Duration took,
                 const absl::Status& outcome) {
        metrics.Query(path, took, outcome);
      }};
  smartcanary::analysis::AnalyzerService analyzer(config);
  // Every caller must present canaryd's token, unless explicitly waived.
  std::unique_ptr<smartcanary::TokenFile> token;
  std::unique_ptr<smartcanary::analysis::AuthenticatedAnalysisService> guarded;
  smartcanary::v1::AnalysisService::Service* service = &analyzer;
  if (!absl::GetFlag(FLAGS_client_token_file).empty()) {
    token = OpenToken("--client-token-file",
                      absl::GetFlag(FLAGS_client_token_file));
    if (!token) return 2;
    guarded =
        std::make_unique<smartcanary::analysis::AuthenticatedAnalysisService>(
            &analyzer, token.get());
    service = guarded.get();
  } else if (!absl::GetFlag(FLAGS_insecure_no_auth)) {
    spdlog::error(
        "--client-token-file is required: without it any pod could make the "
        "analyzer query on its behalf (--insecure-no-auth for local "
        "development)");
    return 2;
  } else {
    spdlog::warn("--insecure-no-auth: answering every caller");
  }
  smartcanary::analysis::http::CountedAnalysisService counted(service,
                                                              &metrics);
  service = &counted;
  // The HTTP API: its own token (Argo can send one; Flagger cannot, hence
  // the explicit opt-out), the same allowlist as gRPC.
  std::unique_ptr<smartcanary::TokenFile> http_token;
  std::unique_ptr<smartcanary::analysis::http::JudgeApi> judge_api;
  smartcanary::http::HttpServer http_server(
      smartcanary::analysis::http::JudgeServerOptions());
  if (const std::string listen = absl::GetFlag(FLAGS_http_listen);
      !listen.empty()) {
    if (!absl::GetFlag(FLAGS_http_token_file).empty()) {
      http_token =
          OpenToken("--http-token-file", absl::GetFlag(FLAGS_http_token_file));
      if (!http_token) return 2;
    } else if (!absl::GetFlag(FLAGS_http_allow_unauthenticated)) {
      spdlog::error(
          "--http-listen needs --http-token-file, or "
          "--http-allow-unauthenticated with a NetworkPolicy in front");
      return 2;
    } else {
      spdlog::warn(
          "--http-allow-unauthenticated: the HTTP API answers "
          "every caller that reaches {}",
          listen);
    }
    judge_api = std::make_unique<smartcanary::analysis::http::JudgeApi>(
        smartcanary::analysis::http::JudgeApiOptions{
            config, http_token.get(), &metrics, [] { return g_stop.load(); }});
    judge_api->Register(http_server);
    auto http_port = http_server.Start(listen);
    if (!http_port.ok()) {
      spdlog::error("--http-listen {}: {}", listen,
                    std::string(http_port.status().message()));
      return 2;
    }
    spdlog::info("canary-analyzer HTTP API on :{}", *http_port);
  }
  smartcanary::http::HttpServer metrics_server(
      smartcanary::analysis::http::JudgeServerOptions());
  if (const std::string listen = absl::GetFlag(FLAGS_metrics_listen);
      !listen.empty()) {
    smartcanary::analysis::http::RegisterMetricsAndHealth(metrics_server,
                                                          &metrics);
    auto metrics_port = metrics_server.Start(listen);
    if (!metrics_port.ok()) {
      spdlog::error("--metrics-listen {}: {}", listen,
                    std::string(metrics_port.status().message()));
      return 2;
    }
    spdlog::info("canary-analyzer /metrics on :{}", *metrics_port);
  }
  auto credentials = ServerCredentials();
  if (!credentials.ok()) {
    spdlog::error("{}", std::string(credentials.status().message()));
    return 2;
  }
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_grpc_listen), *credentials,
                           &port);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    spdlog::error("--grpc-listen {}: cannot listen",
                  absl::GetFlag(FLAGS_grpc_listen));
    return 2;
  }
  spdlog::info("canary-analyzer listening on :{}", port);
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // In-flight measurements get a few seconds to answer; canaryd treats a
  // cut one as an Error measurement and asks again.
  spdlog::info("canary-analyzer stopping");
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(3));
  http_server.Stop();
  metrics_server.Stop();
  curl_global_cleanup();
  return 0;
}
