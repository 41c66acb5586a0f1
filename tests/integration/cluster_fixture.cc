#include "tests/integration/cluster_fixture.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_interceptor.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "cli/manifest.h"
#include "controller/kube/kube_config.h"
#include "controller/kube/resources.h"
#include "controller/leader_forwarder.h"

namespace smartcanary::testing {

using nlohmann::json;

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t length = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  close(fd);
  return ntohs(addr.sin_port);
}

namespace {

std::string ShellQuote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string PathFor(const json& object) {
  const std::string kind = object.value("kind", "");
  const std::string ns = object["metadata"].value("namespace", "");
  if (kind == "VirtualService") return kube::kVirtualServices.Collection(ns);
  if (kind == "DestinationRule") return kube::kDestinationRules.Collection(ns);
  if (kind == "Service") return kube::kServices.Collection(ns);
  if (kind == "Secret")
    return absl::StrCat("/api/v1/namespaces/", ns, "/secrets");
  if (kind == "CanaryRollout") return kube::kCanaryRollouts.Collection(ns);
  if (kind == "CanaryAnalysisTemplate")
    return kube::kAnalysisTemplates.Collection(ns);
  if (kind == "ClusterCanaryAnalysisTemplate")
    return kube::kClusterAnalysisTemplates.Collection("");
  ADD_FAILURE() << "no path for kind " << kind;
  return "";
}

// Sends the cluster admin's bearer token (system:masters: every
// SubjectAccessReview allows it) on calls that carry no authorization of
// their own, so tests about rollouts run against canaryd's real
// authentication and authorization.
class AdminTokenInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit AdminTokenInterceptor(std::string token)
      : token_(std::move(token)) {}
  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::
                PRE_SEND_INITIAL_METADATA)) {
      auto* metadata = methods->GetSendInitialMetadata();
      if (!token_.empty() && metadata->find("authorization") == metadata->end())
        metadata->emplace("authorization", "Bearer " + token_);
    }
    methods->Proceed();
  }

 private:
  std::string token_;
};

class AdminTokenFactory
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new AdminTokenInterceptor(Kube().config().token);
  }
};

// Channels of their own with short reconnect backoff: gRPC's shared
// subchannel pool would otherwise carry a killed canaryd's backoff over to
// the restarted one.
std::shared_ptr<grpc::Channel> FreshChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(std::make_unique<AdminTokenFactory>());
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      address, grpc::InsecureChannelCredentials(), args,
      std::move(interceptors));
}

// Whether something accepts TCP connections on 127.0.0.1:`port` (a TLS
// canaryd, which a plaintext channel cannot probe).
bool Listening(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok =
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

}  // namespace

kube::KubeClient& Kube() {
  static kube::KubeClient* client = [] {
    const char* path = std::getenv("KUBECONFIG");
    if (path == nullptr) {
      std::fprintf(stderr,
                   "KUBECONFIG is not set: run through scripts/test.sh\n");
      std::abort();
    }
    auto config = kube::LoadKubeconfig(path);
    if (!config.ok()) {
      std::fprintf(stderr, "%s\n", config.status().ToString().c_str());
      std::abort();
    }
    return new kube::KubeClient(*config);
  }();
  return *client;
}

std::string RunfilePath(const std::string& target_path) {
  const char* root = std::getenv("TEST_SRCDIR");
  return absl::StrCat(root != nullptr ? root : ".", "/smartcanary/",
                      target_path);
}

void WriteLocalhostCertificate(const std::string& dir) {
  const std::string command = absl::StrCat(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      "-nodes -days 2 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout ",
      ShellQuote(dir + "/tls.key"), " -out ", ShellQuote(dir + "/tls.crt"),
      " 2>/dev/null");
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

std::vector<std::string> LocalAnalyzerArgv(
    int port, const std::vector<std::string>& extra,
    const std::string& binary) {
  std::vector<std::string> argv = {
      binary, absl::StrCat("--grpc-listen=127.0.0.1:", port),
      "--allowed-prometheus=127.0.0.0/8,::1"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const bool has_token =
      std::any_of(extra.begin(), extra.end(), [](const std::string& flag) {
        return flag.rfind("--client-token-file", 0) == 0;
      });
  if (!has_token) argv.push_back("--insecure-no-auth");
  return argv;
}

TestNamespace::TestNamespace() {
  static std::mt19937 random(std::random_device{}());
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string base =
      absl::AsciiStrToLower(info != nullptr ? info->name() : "test");
  base = base.substr(0, 40);
  name_ = absl::StrCat(base, "-", random() % 100000);
  auto created =
      Kube().Post("/api/v1/namespaces", json{{"apiVersion", "v1"},
                                             {"kind", "Namespace"},
                                             {"metadata", {{"name", name_}}}});
  EXPECT_TRUE(created.ok()) << created.status();
}

TestNamespace::~TestNamespace() {
  (void)Kube().Delete("/api/v1/namespaces/" + name_);
}

void TestNamespace::Apply(const std::string& yaml) const {
  for (absl::string_view document : absl::StrSplit(yaml, "\n---\n")) {
    auto object = cli::YamlToJson(std::string(document));
    ASSERT_TRUE(object.ok()) << object.status();
    if ((*object)["kind"] != "ClusterCanaryAnalysisTemplate")
      (*object)["metadata"]["namespace"] = name_;
    auto created = Kube().Post(PathFor(*object), *object);
    ASSERT_TRUE(created.ok()) << created.status();
  }
}

ChildProcess::ChildProcess(std::string name, std::vector<std::string> argv)
    : name_(std::move(name)), argv_(std::move(argv)) {
  Start();
}

void ChildProcess::Start() {
  const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  const std::string log =
      absl::StrCat(outputs != nullptr ? outputs : "/tmp", "/", name_, ".log");
  pid_ = fork();
  if (pid_ == 0) {
    FILE* out = fopen(log.c_str(), "a");
    if (out != nullptr) {
      dup2(fileno(out), 1);
      dup2(fileno(out), 2);
    }
    std::vector<char*> args;
    for (std::string& arg : argv_) args.push_back(arg.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

int ChildProcess::Terminate(absl::Duration timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  const absl::Time until = absl::Now() + timeout;
  int status = 0;
  while (absl::Now() < until) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  Kill9();
  return -1;
}

bool ChildProcess::Exited() {
  if (pid_ <= 0) return true;
  if (waitpid(pid_, nullptr, WNOHANG) != pid_) return false;
  pid_ = -1;
  return true;
}

void ChildProcess::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

CanarydProcess::CanarydProcess(std::string ns,
                               std::vector<std::string> extra_flags)
    : grpc_port_(FreePort()), http_port_(FreePort()) {
  std::vector<std::string> argv = {
      RunfilePath("controller/canaryd"),
      absl::StrCat("--grpc-listen=127.0.0.1:", grpc_port_),
      absl::StrCat("--http-listen=127.0.0.1:", http_port_),
      "--namespace=" + ns};
  for (const std::string& flag : extra_flags) {
    if (flag.starts_with("--grpc-tls-cert-file")) tls_ = true;
  }
  // Plaintext unless the test gives TLS files; the admin token still goes
  // through TokenReview and SubjectAccessReview.
  if (!tls_) argv.push_back("--grpc-insecure");
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  process_ = std::make_unique<ChildProcess>("canaryd-" + ns, argv);
  Start();
}

void CanarydProcess::Start() {
  if (!process_->running()) process_->Start();
  if (tls_) {
    ASSERT_TRUE(
        WaitFor([&] { return Listening(grpc_port_); }, absl::Seconds(30)))
        << "canaryd did not start";
    return;
  }
  auto channel = FreshChannel(address());
  ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() +
                                        std::chrono::seconds(30)))
      << "canaryd did not start";
}

std::unique_ptr<v1::RolloutService::Stub> CanarydProcess::Stub() const {
  return v1::RolloutService::NewStub(FreshChannel(address()));
}

bool CanarydProcess::Leads(const std::string& ns) const {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  context.AddMetadata(kForwardedMetadata, "1");
  v1::RolloutRef ref;
  ref.set_namespace_(ns);
  ref.set_name("no-such-rollout");
  v1::Rollout out;
  return Stub()->Resume(&context, ref, &out).error_code() ==
         grpc::StatusCode::NOT_FOUND;
}

PrometheusProcess::PrometheusProcess(const std::vector<std::string>& targets,
                                     absl::Duration scrape_interval,
                                     const std::string& data_dir)
    : port_(FreePort()) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/prometheus-", port_);
  const int64_t every = absl::ToInt64Seconds(scrape_interval);
  std::string config =
      absl::StrCat("global: {scrape_interval: ", every,
                   "s, evaluation_interval: ", every, "s}\nscrape_configs:\n");
  for (size_t i = 0; i < targets.size(); ++i) {
    absl::StrAppend(&config, "- job_name: target", i,
                    "\n  static_configs: [{targets: [\"", targets[i],
                    "\"]}]\n");
  }
  mkdir(dir.c_str(), 0755);
  FILE* f = fopen((dir + "/prometheus.yml").c_str(), "w");
  fputs(config.c_str(), f);
  fclose(f);
  process_ = std::make_unique<ChildProcess>(
      absl::StrCat("prometheus-", port_),
      std::vector<std::string>{
          "/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml",
          "--storage.tsdb.path=" +
              (data_dir.empty() ? dir + "/data" : data_dir),
          absl::StrCat("--web.listen-address=127.0.0.1:", port_)});
  EXPECT_TRUE(WaitFor([&] { return !HttpGet(url() + "/-/ready").empty(); }))
      << "Prometheus not ready";
}

std::string UrlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    out += std::isalnum(c) ? std::string(1, static_cast<char>(c))
                           : absl::StrFormat("%%%02X", c);
  }
  return out;
}

bool PrometheusProcess::WaitForData(const std::string& promql,
                                    absl::Duration timeout) const {
  return WaitFor(
      [&] {
        const std::string escaped = UrlEncode(promql);
        json answer = json::parse(
            HttpGet(url() + "/api/v1/query?query=" + escaped), nullptr, false);
        return !answer.is_discarded() && !answer["data"]["result"].empty();
      },
      timeout);
}

namespace {
size_t AppendBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}
}  // namespace

std::string HttpGet(const std::string& url,
                    const std::vector<std::string>& headers) {
  CURL* curl = curl_easy_init();
  std::string body;
  curl_slist* list = nullptr;
  for (const std::string& header : headers)
    list = curl_slist_append(list, header.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  const bool ok = curl_easy_perform(curl) == CURLE_OK;
  curl_easy_cleanup(curl);
  curl_slist_free_all(list);
  return ok ? body : "";
}

HttpAnswer HttpPost(const std::string& url, const std::string& body,
                    const std::vector<std::string>& headers,
                    absl::Duration timeout) {
  CURL* curl = curl_easy_init();
  HttpAnswer answer;
  curl_slist* list = nullptr;
  for (const std::string& header : headers)
    list = curl_slist_append(list, header.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(timeout)));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  if (curl_easy_perform(curl) == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    answer.status = static_cast<int>(status);
  }
  curl_easy_cleanup(curl);
  curl_slist_free_all(list);
  return answer;
}

CommandResult Canaryctl(const std::string& server,
                        const std::vector<std::string>& args, bool insecure) {
  std::string command =
      ShellQuote(RunfilePath("cli/canaryctl")) + " --server " + server;
  if (insecure) command += " --insecure";
  for (const std::string& arg : args) command += " " + ShellQuote(arg);
  return RunShell(command);
}

CommandResult RunShell(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  std::string output;
  std::array<char, 4096> buffer;
  size_t got;
  while ((got = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    output.append(buffer.data(), got);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return done();
}

WeightRecorder::WeightRecorder(std::string ns, std::string virtual_service,
                               int route_index, int canary_destination)
    : ns_(std::move(ns)),
      name_(std::move(virtual_service)),
      route_(route_index),
      canary_(canary_destination) {
  auto current = Kube().Get(kube::kVirtualServices.Item(ns_, name_));
  EXPECT_TRUE(current.ok()) << current.status();
  if (!current.ok()) return;
  weights_.push_back(
      (*current)["spec"]["http"][route_]["route"][canary_].value("weight", 0));
  const std::string version = (*current)["metadata"]["resourceVersion"];
  thread_ = std::thread([this, version] {
    std::string resource_version = version;
    while (!stop_) {
      const std::string path =
          absl::StrCat(kube::kVirtualServices.Collection(ns_),
                       "?watch=1&fieldSelector=metadata.name%3D", name_,
                       "&resourceVersion=", resource_version);
      (void)Kube().Watch(
          path,
          [&](const json& event) {
            if (event.value("type", "") != "MODIFIED") return true;
            const json& object = event["object"];
            resource_version =
                object["metadata"].value("resourceVersion", resource_version);
            const int weight =
                object["spec"]["http"][route_]["route"][canary_].value("weight",
                                                                       0);
            std::lock_guard<std::mutex> lock(mu_);
            if (weights_.back() != weight) weights_.push_back(weight);
            return true;
          },
          [this] { return stop_.load(); });
    }
  });
}

WeightRecorder::~WeightRecorder() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<int> WeightRecorder::weights() const {
  std::lock_guard<std::mutex> lock(mu_);
  return weights_;
}

std::string SubsetMeshYaml(const std::string& name) {
  return absl::StrReplaceAll(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: NAME}
spec:
  hosts: [NAME]
  http:
  - route:
    - destination: {host: NAME, subset: stable}
      weight: 100
    - destination: {host: NAME, subset: canary}
      weight: 0
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: NAME}
spec:
  host: NAME
  subsets:
  - name: stable
    labels: {version: v1}
  - name: canary
    labels: {version: v1}
)",
                             {{"NAME", name}});
}

v1::StartRolloutRequest SubsetRolloutRequest(
    const std::string& ns, const std::string& name,
    const std::vector<v1::Step>& steps) {
  v1::StartRolloutRequest request;
  request.set_namespace_(ns);
  request.set_name(name);
  v1::RolloutSpec* spec = request.mutable_spec();
  spec->mutable_traffic_routing()->set_virtual_service(name);
  spec->mutable_traffic_routing()->set_destination_rule(name);
  spec->mutable_traffic_routing()->set_stable_subset("stable");
  spec->mutable_traffic_routing()->set_canary_subset("canary");
  (*spec->mutable_canary_labels())["version"] = "v2";
  for (const v1::Step& step : steps) *spec->add_steps() = step;
  return request;
}

v1::Rollout GetRollout(v1::RolloutService::Stub& stub, const std::string& ns,
                       const std::string& name) {
  grpc::ClientContext context;
  v1::RolloutRef ref;
  ref.set_namespace_(ns);
  ref.set_name(name);
  v1::Rollout rollout;
  stub.GetRollout(&context, ref, &rollout);
  return rollout;
}

v1::Step SetWeightStep(int weight) {
  v1::Step step;
  step.set_set_weight(weight);
  return step;
}

v1::Step PauseStep(int seconds) {
  v1::Step step;
  step.mutable_pause()->set_duration_seconds(seconds);
  return step;
}

}  // namespace smartcanary::testing
