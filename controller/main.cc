// canaryd: the rollout daemon. Reconciles CanaryRollouts against Istio
// routing, serves the gRPC RolloutService, and /healthz + /metrics over HTTP.
#include <curl/curl.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <csignal>
#include <cstdlib>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "common/flag_names.h"
#include "controller/analysis/analyzer_client.h"
#include "controller/controller.h"
#include "controller/grafana/annotator.h"
#include "controller/http/http_server.h"
#include "controller/istio/istio_router.h"
#include "controller/kube/kube_config.h"
#include "controller/metrics.h"
#include "controller/reconciler.h"
#include "controller/rollout_service.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(
    std::string, kubeconfig, "",
    "kubeconfig file; empty: $KUBECONFIG, else the in-cluster service account");
ABSL_FLAG(std::string, namespace, "",
          "namespace to watch; empty: all namespaces");
ABSL_FLAG(std::string, grpc_listen, "0.0.0.0:9090",
          "address of the gRPC RolloutService");
ABSL_FLAG(std::string, http_listen, "0.0.0.0:8080",
          "address of /healthz and /metrics");
ABSL_FLAG(std::string, log_format, "text",
          "text (for people) or json (for clusters)");
ABSL_FLAG(std::string, analyzer, "localhost:9091",
          "canary-analyzer's gRPC address");
ABSL_FLAG(std::string, grafana_url, "",
          "Grafana base URL for annotations; empty: none");
ABSL_FLAG(std::string, grafana_token_file, "",
          "file holding a Grafana service account token");
ABSL_FLAG(std::string, grafana_dashboard_uid, "",
          "annotate this dashboard only; empty: all");
ABSL_FLAG(int, workers, 8,
          "rollouts reconciled at once (one rollout never by two workers); "
          "analysis never occupies a worker");

namespace {

std::atomic<bool> g_stop{false};

void ConfigureLogging(const std::string& format) {
  auto logger = spdlog::stderr_color_mt("canaryd");
  spdlog::set_default_logger(logger);
  if (format == "json") {
    spdlog::set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","msg":"%v"})",
        spdlog::pattern_time_type::utc);
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
}

absl::StatusOr<smartcanary::kube::KubeConfig> LoadConfig() {
  std::string path = absl::GetFlag(FLAGS_kubeconfig);
  if (path.empty() && std::getenv("KUBECONFIG") != nullptr)
    path = std::getenv("KUBECONFIG");
  if (!path.empty()) return smartcanary::kube::LoadKubeconfig(path);
  return smartcanary::kube::LoadInClusterConfig();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args = smartcanary::DashedFlagsToAbsl(argc, argv);
  std::vector<char*> absl_argv = smartcanary::ArgvOf(args);
  absl::ParseCommandLine(static_cast<int>(args.size()), absl_argv.data());
  ConfigureLogging(absl::GetFlag(FLAGS_log_format));
  curl_global_init(CURL_GLOBAL_DEFAULT);

  auto config = LoadConfig();
  if (!config.ok()) {
    spdlog::error("{}", config.status().ToString());
    return 2;
  }
  const std::string watch_namespace = absl::GetFlag(FLAGS_namespace);
  smartcanary::kube::KubeClient client(*config);
  smartcanary::Metrics metrics;
  smartcanary::GrpcAnalyzer analyzer(absl::GetFlag(FLAGS_analyzer));
  std::unique_ptr<smartcanary::grafana::Annotator> annotator;
  if (!absl::GetFlag(FLAGS_grafana_url).empty()) {
    annotator = std::make_unique<smartcanary::grafana::Annotator>(
        smartcanary::grafana::AnnotatorOptions{
            absl::GetFlag(FLAGS_grafana_url),
            absl::GetFlag(FLAGS_grafana_token_file),
            absl::GetFlag(FLAGS_grafana_dashboard_uid)},
        metrics);
  }
  // Measurements arrive on gRPC's threads and wake their rollout through
  // the controller's queue, which exists only once the controller does.
  std::atomic<smartcanary::Controller*> wake_target{nullptr};
  smartcanary::Reconciler reconciler(
      client, {[&client](const smartcanary::CanaryRollout& r) {
                 return std::make_unique<smartcanary::istio::IstioRouter>(
                     client, r.namespace_name, r.spec.traffic_routing);
               },
               &analyzer, annotator.get(), &metrics,
               [&wake_target](const std::string& key) {
                 if (auto* controller = wake_target.load())
                   controller->Trigger(key);
               }});
  smartcanary::Controller controller(client, reconciler, watch_namespace,
                                     metrics, absl::GetFlag(FLAGS_workers));
  wake_target = &controller;
  smartcanary::RolloutServiceImpl service(
      client, reconciler,
      [&controller](const std::string& ns, const std::string& name,
                    absl::Duration delay) {
        controller.Trigger(ns, name, delay);
      },
      watch_namespace.empty() ? config->default_namespace : watch_namespace);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_grpc_listen),
                           grpc::InsecureServerCredentials(), &grpc_port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || grpc_port == 0) {
    spdlog::error("--grpc-listen {}: cannot listen",
                  absl::GetFlag(FLAGS_grpc_listen));
    return 2;
  }

  smartcanary::http::HttpServer http;
  // Alive: every watch and worker loop has shown life recently.
  http.Handle("/healthz", [&controller] {
    if (auto healthy = controller.Healthy(absl::Now()); !healthy.ok()) {
      return smartcanary::http::Response{503, "text/plain",
                                         std::string(healthy.message()) + "\n"};
    }
    return smartcanary::http::Response{200, "text/plain", "ok\n"};
  });
  // Ready: every watch has listed once, so commands see current objects.
  http.Handle("/readyz", [&controller] {
    if (!controller.Synced())
      return smartcanary::http::Response{503, "text/plain", "syncing\n"};
    return smartcanary::http::Response{200, "text/plain", "ok\n"};
  });
  http.Handle("/metrics", [&metrics] {
    return smartcanary::http::Response{200, "text/plain; version=0.0.4",
                                       metrics.Render()};
  });
  auto http_port = http.Start(absl::GetFlag(FLAGS_http_listen));
  if (!http_port.ok()) {
    spdlog::error("{}", http_port.status().ToString());
    return 2;
  }

  controller.Start();
  spdlog::info("canaryd up: api {} namespace {} grpc :{} http :{}",
               config->server,
               watch_namespace.empty() ? "(all)" : watch_namespace, grpc_port,
               *http_port);

  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });
  while (!g_stop) absl::SleepFor(absl::Milliseconds(200));
  spdlog::info("canaryd stopping");
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  reconciler.Shutdown();  // no more wakes into the controller's queue
  wake_target = nullptr;
  controller.Stop();
  http.Stop();
  annotator.reset();
  curl_global_cleanup();
  return 0;
}
