// canary-analyzer: the stateless gRPC AnalysisService.
#include <curl/curl.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "analysis/analyzer_service.h"
#include "common/flag_names.h"
#include "common/logging.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, grpc_listen, "0.0.0.0:9091",
          "address of the gRPC AnalysisService");
ABSL_FLAG(std::string, log_format, "text",
          "text (for people) or json (for clusters)");

namespace {
std::atomic<bool> g_stop{false};
}  // namespace

int main(int argc, char** argv) {
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
  smartcanary::analysis::AnalyzerService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_grpc_listen),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
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
  curl_global_cleanup();
  return 0;
}
