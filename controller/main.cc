// canaryd: the rollout daemon. Reconciles CanaryRollouts against Istio
// routing, serves the gRPC RolloutService, and /healthz + /metrics over HTTP.
#include <curl/curl.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/flag_names.h"
#include "common/logging.h"
#include "common/usage.h"
#include "controller/analysis/analyzer_client.h"
#include "controller/analysis/kube_secrets.h"
#include "controller/auth/grpc_tls.h"
#include "controller/auth/rpc_gate.h"
#include "controller/controller.h"
#include "controller/grafana/annotator.h"
#include "controller/http/http_server.h"
#include "controller/istio/istio_router.h"
#include "controller/kube/cached_kube_api.h"
#include "controller/kube/kube_client.h"
#include "controller/kube/kube_config.h"
#include "controller/kube/kube_event_recorder.h"
#include "controller/kube/leader_election.h"
#include "controller/metrics.h"
#include "controller/notify/fan_out_sink.h"
#include "controller/notify/recorder_sink.h"
#include "controller/notify/webhook_notifier.h"
#include "controller/reconciler.h"
#include "controller/rollout_service.h"
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
ABSL_FLAG(std::string, analyzer_token_file, "",
          "file holding the token canary-analyzer demands (its "
          "--client-token-file), re-read when it changes; empty: none");
ABSL_FLAG(std::string, analyzer_ca_file, "",
          "CA certificate (PEM) of canary-analyzer's TLS certificate; empty: "
          "plaintext to the analyzer");
ABSL_FLAG(std::string, grafana_url, "",
          "Grafana base URL for annotations; empty: none");
ABSL_FLAG(std::string, grafana_token_file, "",
          "file holding a Grafana service account token");
ABSL_FLAG(std::string, grafana_dashboard_uid, "",
          "annotate this dashboard only; empty: all");
ABSL_FLAG(bool, leader_elect, false,
          "run as one of several replicas: only the holder of a "
          "coordination.k8s.io Lease reconciles and writes");
ABSL_FLAG(std::string, leader_election_namespace, "",
          "namespace of the Lease; empty: the pod's own namespace, else the "
          "kubeconfig's default");
ABSL_FLAG(std::string, leader_election_id, "canaryd-leader",
          "name of the Lease");
ABSL_FLAG(absl::Duration, lease_duration, absl::Seconds(15),
          "a standby takes over a lease not renewed for this long");
ABSL_FLAG(absl::Duration, renew_deadline, absl::Seconds(10),
          "the leader stops writing if it could not renew for this long");
ABSL_FLAG(absl::Duration, retry_period, absl::Seconds(2),
          "how often candidates try to acquire or renew");
ABSL_FLAG(std::string, advertise_address, "",
          "host:port where the other replicas reach this one's RolloutService "
          "(standbys forward commands to the leader); empty: $POD_IP, else "
          "127.0.0.1, with the --grpc-listen port");
ABSL_FLAG(std::string, grpc_tls_cert_file, "",
          "PEM certificate chain of the RolloutService (reloaded when it "
          "changes); with --grpc-tls-key-file");
ABSL_FLAG(std::string, grpc_tls_key_file, "",
          "PEM private key of --grpc-tls-cert-file (reloaded when it changes)");
ABSL_FLAG(std::string, grpc_client_ca_file, "",
          "PEM CA bundle: client certificates it signed are accepted as an "
          "identity (CN user, O groups), then authorized like tokens; empty: "
          "bearer tokens only");
ABSL_FLAG(bool, grpc_insecure, false,
          "serve the RolloutService in plaintext: local development only");
ABSL_FLAG(std::string, grpc_auth, "kube",
          "kube: every call authenticated (TokenReview, client certificate) "
          "and authorized (SubjectAccessReview); none: anyone may do "
          "anything, local development only");
ABSL_FLAG(std::string, grpc_forward_ca_file, "",
          "CA that verifies the leader when a standby forwards a call; "
          "empty: --grpc-client-ca-file (TLS only)");
ABSL_FLAG(std::string, grpc_forward_server_name, "",
          "name the leader's certificate must carry (leaders are dialed by "
          "pod IP), e.g. canaryd.smartcanary-system.svc; empty: the address");
ABSL_FLAG(bool, kube_events, true,
          "write a Kubernetes Event on the CanaryRollout for every transition "
          "and analysis verdict (needs create, get, patch on events)");
ABSL_FLAG(std::vector<std::string>, notify_webhook_url, {},
          "comma-separated URLs that get every transition and verdict as "
          "generic JSON (POST); empty: none");
ABSL_FLAG(std::vector<std::string>, notify_slack_url, {},
          "comma-separated Slack incoming-webhook URLs (secrets: logged only "
          "as scheme://host/...); empty: none");
ABSL_FLAG(std::string, notify_webhook_url_file, "",
          "file (a mounted Secret) with more --notify-webhook-url URLs, comma "
          "or line separated; read at start");
ABSL_FLAG(std::string, notify_slack_url_file, "",
          "file (a mounted Secret) with more --notify-slack-url URLs, so that "
          "the secret URL is not in the Deployment; read at start");
ABSL_FLAG(absl::Duration, notify_timeout, absl::Seconds(5),
          "one webhook POST; a few tries with backoff follow a timeout or 5xx");
ABSL_FLAG(bool, watch_cache, true,
          "serve reads of CanaryRollouts, analysis templates, VirtualServices "
          "and DestinationRules from memory kept current by the watches (as "
          "informers do; writes stay guarded by resourceVersion); false: "
          "every read goes to the API server");
ABSL_FLAG(int, workers, 8,
          "rollouts reconciled at once (one rollout never by two workers); "
          "analysis never occupies a worker");

namespace {

std::atomic<bool> g_stop{false};

absl::StatusOr<smartcanary::kube::KubeConfig> LoadConfig() {
  std::string path = absl::GetFlag(FLAGS_kubeconfig);
  if (path.empty() && std::getenv("KUBECONFIG") != nullptr)
    path = std::getenv("KUBECONFIG");
  if (!path.empty()) return smartcanary::kube::LoadKubeconfig(path);
  return smartcanary::kube::LoadInClusterConfig();
}

std::string LeaseNamespace(const smartcanary::kube::KubeConfig& config) {
  std::string ns = absl::GetFlag(FLAGS_leader_election_namespace);
  if (!ns.empty()) return ns;
  std::ifstream in("/var/run/secrets/kubernetes.io/serviceaccount/namespace");
  if (in >> ns && !ns.empty()) return ns;
  return config.default_namespace;
}

std::string AdvertiseAddress(int grpc_port) {
  std::string address = absl::GetFlag(FLAGS_advertise_address);
  if (!address.empty()) return address;
  const char* pod_ip = std::getenv("POD_IP");
  return absl::StrCat(
      pod_ip != nullptr && *pod_ip != '\0' ? pod_ip : "127.0.0.1", ":",
      grpc_port);
}

}  // namespace

int main(int argc, char** argv) {
  // glibc gives each thread that allocates an arena of its own (up to 8 per
  // core), and each keeps what it freed: canaryd's workers, watches and
  // gRPC threads would hold many half-empty heaps. Two arenas are plenty
  // for work that waits on the network. MALLOC_ARENA_MAX still overrides.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  smartcanary::ConfigureUsage(
      "canaryd",
      "the Smart Canary rollout controller. Reconciles CanaryRollouts "
      "(shifting Istio traffic to a canary step by step and rolling back on a "
      "failed analysis), serves the gRPC RolloutService canaryctl drives, and "
      "/healthz and /metrics over HTTP.");
  std::vector<std::string> args = smartcanary::DashedFlagsToAbsl(argc, argv);
  std::vector<char*> absl_argv = smartcanary::ArgvOf(args);
  absl::ParseCommandLine(static_cast<int>(args.size()), absl_argv.data());
  if (absl::Status logging = smartcanary::ConfigureLogging(
          "canaryd", absl::GetFlag(FLAGS_log_format));
      !logging.ok()) {
    std::cerr << logging << "\n";
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);

  auto config = LoadConfig();
  if (!config.ok()) {
    spdlog::error("{}", config.status().ToString());
    return 2;
  }
  const std::string watch_namespace = absl::GetFlag(FLAGS_namespace);
  // With a lease, a request must end before the lease can pass to another
  // replica: the fence stops new writes at the renew deadline, the timeout
  // bounds the ones already sent.
  absl::Duration request_timeout = absl::Seconds(30);
  if (absl::GetFlag(FLAGS_leader_elect)) {
    request_timeout =
        std::min(request_timeout, absl::GetFlag(FLAGS_lease_duration) -
                                      absl::GetFlag(FLAGS_renew_deadline));
  }
  smartcanary::kube::KubeClient client(*config, request_timeout);
  // Set once the gRPC server listens (its address goes into the identity),
  // read by other threads: until then a replica neither writes nor leads.
  const bool leader_elect = absl::GetFlag(FLAGS_leader_elect);
  std::unique_ptr<smartcanary::kube::LeaderElector> elector_owner;
  std::atomic<smartcanary::kube::LeaderElector*> elector{nullptr};
  std::atomic<bool> lost_lease{false};
  auto leads = [&] {
    auto* e = elector.load();
    return !leader_elect || (e != nullptr && e->IsLeader());
  };
  auto may_write = leads;
  smartcanary::Metrics metrics;
  // Templates' secretKeyRefs are read in the rollout's namespace.
  smartcanary::GrpcAnalyzerOptions analyzer_options{
      nullptr, smartcanary::KubeSecretReader(client),
      absl::GetFlag(FLAGS_analyzer_ca_file)};
  if (const std::string path = absl::GetFlag(FLAGS_analyzer_token_file);
      !path.empty()) {
    auto token = smartcanary::TokenFile::Open(path);
    if (!token.ok()) {
      spdlog::error("--analyzer-token-file {}",
                    std::string(token.status().message()));
      return 2;
    }
    analyzer_options.token = std::move(*token);
  }
  smartcanary::GrpcAnalyzer analyzer(absl::GetFlag(FLAGS_analyzer),
                                     std::move(analyzer_options));
  std::unique_ptr<smartcanary::grafana::Annotator> annotator;
  if (!absl::GetFlag(FLAGS_grafana_url).empty()) {
    annotator = std::make_unique<smartcanary::grafana::Annotator>(
        smartcanary::grafana::AnnotatorOptions{
            absl::GetFlag(FLAGS_grafana_url),
            absl::GetFlag(FLAGS_grafana_token_file),
            absl::GetFlag(FLAGS_grafana_dashboard_uid)},
        metrics);
  }
  // Events and webhooks beside Grafana, each on its own queue and thread.
  std::vector<std::string> webhook_urls =
      absl::GetFlag(FLAGS_notify_webhook_url);
  std::vector<std::string> slack_urls = absl::GetFlag(FLAGS_notify_slack_url);
  for (auto [flag, path, urls] :
       {std::tuple("--notify-webhook-url-file",
                   absl::GetFlag(FLAGS_notify_webhook_url_file), &webhook_urls),
        std::tuple("--notify-slack-url-file",
                   absl::GetFlag(FLAGS_notify_slack_url_file), &slack_urls)}) {
    if (path.empty()) continue;
    auto text = smartcanary::ReadFile(path);
    if (!text.ok()) {
      spdlog::error("{}: {}", flag, std::string(text.status().message()));
      return 2;
    }
    for (std::string& url : smartcanary::notify::UrlsInText(*text))
      urls->push_back(std::move(url));
  }
  auto webhook_targets =
      smartcanary::notify::ParseWebhookTargets(webhook_urls, slack_urls);
  if (!webhook_targets.ok()) {
    spdlog::error("{}", std::string(webhook_targets.status().message()));
    return 2;
  }
  for (const auto& target : *webhook_targets) {
    spdlog::info("notifying {} {}",
                 smartcanary::notify::WebhookFormatName(target.format),
                 smartcanary::notify::RedactUrl(target.url));
  }
  // A pod's host name is its name: the Events' reportingInstance.
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  smartcanary::kube::KubeEventRecorder event_recorder(client, "canaryd", host);
  std::unique_ptr<smartcanary::notify::EventRecorderSink> event_sink;
  if (absl::GetFlag(FLAGS_kube_events)) {
    event_sink = std::make_unique<smartcanary::notify::EventRecorderSink>(
        event_recorder, metrics);
  }
  std::unique_ptr<smartcanary::notify::WebhookNotifier> notifier;
  if (!webhook_targets->empty()) {
    smartcanary::notify::WebhookOptions webhook_options;
    webhook_options.timeout = absl::GetFlag(FLAGS_notify_timeout);
    notifier = std::make_unique<smartcanary::notify::WebhookNotifier>(
        std::move(*webhook_targets), webhook_options, metrics);
  }
  std::vector<smartcanary::EventSink*> sinks;
  for (smartcanary::EventSink* sink :
       {static_cast<smartcanary::EventSink*>(annotator.get()),
        static_cast<smartcanary::EventSink*>(event_sink.get()),
        static_cast<smartcanary::EventSink*>(notifier.get())}) {
    if (sink != nullptr) sinks.push_back(sink);
  }
  smartcanary::notify::FanOutSink event_sinks(std::move(sinks));
  // Measurements arrive on gRPC's threads and wake their rollout through
  // the controller's queue, which exists only once the controller does.
  std::atomic<smartcanary::Controller*> wake_target{nullptr};
  // Rollouts, templates and mesh objects are read through the watch cache;
  // leader election, reviews, Events and Secrets use the client itself.
  std::unique_ptr<smartcanary::kube::CachedKubeApi> cache;
  if (absl::GetFlag(FLAGS_watch_cache)) {
    cache = std::make_unique<smartcanary::kube::CachedKubeApi>(
        client,
        std::vector<smartcanary::kube::Resource>{
            smartcanary::kube::kCanaryRollouts,
            smartcanary::kube::kAnalysisTemplates,
            smartcanary::kube::kClusterAnalysisTemplates,
            smartcanary::kube::kVirtualServices,
            smartcanary::kube::kDestinationRules},
        watch_namespace);
  }
  const smartcanary::kube::KubeApi& reads =
      cache != nullptr ? static_cast<const smartcanary::kube::KubeApi&>(*cache)
                       : client;
  auto routers_reading = [](const smartcanary::kube::KubeApi& api) {
    return [&api](const smartcanary::CanaryRollout& r) {
      return std::make_unique<smartcanary::istio::IstioRouter>(
          api, r.namespace_name, r.spec.traffic_routing);
    };
  };
  smartcanary::Reconciler reconciler(
      reads, {routers_reading(reads), &analyzer, &event_sinks, &metrics,
              [&wake_target](const std::string& key) {
                if (auto* controller = wake_target.load())
                  controller->Trigger(key);
              },
              may_write, routers_reading(client)});
  smartcanary::Controller controller(client, reconciler, watch_namespace,
                                     metrics, absl::GetFlag(FLAGS_workers),
                                     cache.get());
  wake_target = &controller;
  const smartcanary::auth::ServerTls tls{
      absl::GetFlag(FLAGS_grpc_tls_cert_file),
      absl::GetFlag(FLAGS_grpc_tls_key_file),
      absl::GetFlag(FLAGS_grpc_client_ca_file),
      absl::GetFlag(FLAGS_grpc_insecure)};
  auto server_credentials = smartcanary::auth::ServerCredentials(tls);
  if (!server_credentials.ok()) {
    spdlog::error("{}", std::string(server_credentials.status().message()));
    return 2;
  }
  if (tls.insecure) {
    spdlog::warn(
        "--grpc-insecure: the RolloutService is plaintext; tokens and "
        "commands cross the network unprotected (local development only)");
  }
  std::unique_ptr<smartcanary::auth::RpcGate> gate;
  if (absl::GetFlag(FLAGS_grpc_auth) == "kube") {
    gate = std::make_unique<smartcanary::auth::RpcGate>(client);
  } else if (absl::GetFlag(FLAGS_grpc_auth) == "none") {
    spdlog::warn(
        "--grpc-auth=none: anyone who reaches the RolloutService may start, "
        "promote and abort any rollout (local development only)");
    gate = smartcanary::auth::RpcGate::AllowAll();
  } else {
    spdlog::error("--grpc-auth: \"{}\" is not kube or none",
                  absl::GetFlag(FLAGS_grpc_auth));
    return 2;
  }
  // The standby dials the leader as clients dial it: TLS when it serves TLS.
  std::string forward_ca = absl::GetFlag(FLAGS_grpc_forward_ca_file);
  if (forward_ca.empty()) forward_ca = tls.client_ca_file;
  if (!tls.insecure && forward_ca.empty() && leader_elect) {
    spdlog::error(
        "--leader-elect with TLS: give --grpc-forward-ca-file (or "
        "--grpc-client-ca-file) so that standbys can verify the leader");
    return 2;
  }
  // A standby passes commands to the leader, whose address is the part of
  // its Lease identity after '@'.
  smartcanary::LeaderForwarder forwarder([&]() -> absl::StatusOr<std::string> {
    if (leads()) return std::string();
    auto* e = elector.load();
    const std::string leader = e != nullptr ? e->LeaderIdentity() : "";
    const size_t at = leader.rfind('@');
    if (at == std::string::npos) {
      return absl::UnavailableError(
          "this canaryd is a standby and no leader is known yet; try "
          "again");
    }
    return leader.substr(at + 1);
  });
  forwarder.set_dial([&](const std::string& address) {
    return smartcanary::auth::ReplicaChannel(
        address, tls.insecure ? "" : forward_ca,
        absl::GetFlag(FLAGS_grpc_forward_server_name));
  });
  smartcanary::RolloutServiceImpl service(
      reads, reconciler,
      [&controller](const std::string& ns, const std::string& name,
                    absl::Duration delay) {
        controller.Trigger(ns, name, delay);
      },
      *gate,
      {.default_namespace = watch_namespace.empty() ? config->default_namespace
                                                    : watch_namespace,
       .served_namespace = watch_namespace,
       .forwarder = leader_elect ? &forwarder : nullptr});

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_grpc_listen),
                           *server_credentials, &grpc_port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || grpc_port == 0) {
    spdlog::error("--grpc-listen {}: cannot listen",
                  absl::GetFlag(FLAGS_grpc_listen));
    return 2;
  }

  if (absl::GetFlag(FLAGS_leader_elect)) {
    auto created = smartcanary::kube::LeaderElector::Create(
        *config,
        {LeaseNamespace(*config),
         absl::GetFlag(FLAGS_leader_election_id),
         absl::StrCat(smartcanary::kube::DefaultLeaderIdentity(), "@",
                      AdvertiseAddress(grpc_port)),
         {absl::GetFlag(FLAGS_lease_duration),
          absl::GetFlag(FLAGS_renew_deadline),
          absl::GetFlag(FLAGS_retry_period)}},
        {.on_started_leading = [] { spdlog::info("leading: reconciling"); },
         // Writes are already fenced; exit so a fresh process stands by.
         .on_stopped_leading =
             [&lost_lease] {
               lost_lease = true;
               g_stop = true;
             },
         .on_new_leader =
             [](const std::string& leader) {
               spdlog::info("leader is now {}",
                            leader.empty() ? "(none)" : leader);
             }});
    if (!created.ok()) {
      spdlog::error("leader election: {}", created.status().ToString());
      return 2;
    }
    elector_owner = std::move(*created);
    elector = elector_owner.get();
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

  if (elector_owner) {
    elector_owner->Start();
  } else {
    controller.Start();
  }
  spdlog::info("canaryd up: api {} namespace {} grpc :{} http :{}",
               config->server,
               watch_namespace.empty() ? "(all)" : watch_namespace, grpc_port,
               *http_port);

  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });
  bool started = !leader_elect;
  while (!g_stop) {
    // Reconcile only once leading; a standby serves reads and /readyz.
    if (!started && leads()) {
      controller.Start();
      started = true;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  spdlog::info("canaryd stopping");
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  reconciler.Shutdown();  // no more wakes into the controller's queue
  wake_target = nullptr;
  controller.Stop();
  if (elector_owner) elector_owner->Stop(/*release=*/!lost_lease);
  http.Stop();
  annotator.reset();
  event_sink.reset();
  notifier.reset();
  curl_global_cleanup();
  if (lost_lease) {
    spdlog::error("lost the lease; exiting so a fresh process stands by");
    return 1;
  }
  return 0;
}
