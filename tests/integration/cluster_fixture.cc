#include "tests/integration/cluster_fixture.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/manifest.h"
#include "controller/kube/kube_config.h"
#include "controller/kube/resources.h"

namespace smartcanary::testing {
namespace {

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

std::string ShellQuote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string PathFor(const json& object) {
  const std::string kind = object.value("kind", "");
  const std::string ns = object["metadata"].value("namespace", "");
  if (kind == "VirtualService") return kube::kVirtualServices.Collection(ns);
  if (kind == "DestinationRule") return kube::kDestinationRules.Collection(ns);
  if (kind == "Service") return kube::kServices.Collection(ns);
  if (kind == "CanaryRollout") return kube::kCanaryRollouts.Collection(ns);
  ADD_FAILURE() << "no path for kind " << kind;
  return "";
}

// Channels of their own with short reconnect backoff: gRPC's shared
// subchannel pool would otherwise carry a killed canaryd's backoff over to
// the restarted one.
std::shared_ptr<grpc::Channel> FreshChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

kube::KubeClient& Kube() {
  static kube::KubeClient* client = [] {
    const char* path = std::getenv("KUBECONFIG");
    if (path == nullptr) {
      std::fprintf(stderr, "KUBECONFIG is not set: run through scripts/test.sh\n");
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
  return absl::StrCat(root != nullptr ? root : ".", "/smartcanary/", target_path);
}

TestNamespace::TestNamespace() {
  static std::mt19937 random(std::random_device{}());
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string base = absl::AsciiStrToLower(info != nullptr ? info->name() : "test");
  base = base.substr(0, 40);
  name_ = absl::StrCat(base, "-", random() % 100000);
  auto created = Kube().Post("/api/v1/namespaces",
                             json{{"apiVersion", "v1"}, {"kind", "Namespace"},
                                  {"metadata", {{"name", name_}}}});
  EXPECT_TRUE(created.ok()) << created.status();
}

TestNamespace::~TestNamespace() { (void)Kube().Delete("/api/v1/namespaces/" + name_); }

void TestNamespace::Apply(const std::string& yaml) const {
  for (absl::string_view document : absl::StrSplit(yaml, "\n---\n")) {
    auto object = cli::YamlToJson(std::string(document));
    ASSERT_TRUE(object.ok()) << object.status();
    (*object)["metadata"]["namespace"] = name_;
    auto created = Kube().Post(PathFor(*object), *object);
    ASSERT_TRUE(created.ok()) << created.status();
  }
}

CanarydProcess::CanarydProcess(std::string ns)
    : namespace_(std::move(ns)), grpc_port_(FreePort()), http_port_(FreePort()) {
  Start();
}

CanarydProcess::~CanarydProcess() { Kill9(); }

void CanarydProcess::Start() {
  const std::string binary = RunfilePath("controller/canaryd");
  const std::string grpc = absl::StrCat("--grpc-listen=127.0.0.1:", grpc_port_);
  const std::string http = absl::StrCat("--http-listen=127.0.0.1:", http_port_);
  const std::string ns = "--namespace=" + namespace_;
  pid_ = fork();
  if (pid_ == 0) {
    execl(binary.c_str(), binary.c_str(), grpc.c_str(), http.c_str(), ns.c_str(), nullptr);
    _exit(127);
  }
  auto channel = FreshChannel(address());
  ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(30)))
      << "canaryd did not start";
}

void CanarydProcess::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::unique_ptr<v1::RolloutService::Stub> CanarydProcess::Stub() const {
  return v1::RolloutService::NewStub(FreshChannel(address()));
}

CommandResult Canaryctl(const std::string& server, const std::vector<std::string>& args) {
  std::string command = ShellQuote(RunfilePath("cli/canaryctl")) + " --server " + server;
  for (const std::string& arg : args) command += " " + ShellQuote(arg);
  command += " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  std::array<char, 4096> buffer;
  size_t got;
  while ((got = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), got);
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

WeightRecorder::WeightRecorder(std::string ns, std::string virtual_service, int route_index,
                               int canary_destination)
    : ns_(std::move(ns)), name_(std::move(virtual_service)), route_(route_index),
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
      const std::string path = absl::StrCat(kube::kVirtualServices.Collection(ns_),
                                            "?watch=1&fieldSelector=metadata.name%3D", name_,
                                            "&resourceVersion=", resource_version);
      (void)Kube().Watch(
          path,
          [&](const json& event) {
            if (event.value("type", "") != "MODIFIED") return true;
            const json& object = event["object"];
            resource_version = object["metadata"].value("resourceVersion", resource_version);
            const int weight = object["spec"]["http"][route_]["route"][canary_].value("weight", 0);
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

}  // namespace smartcanary::testing
