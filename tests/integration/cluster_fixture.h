#ifndef SMARTCANARY_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_
#define SMARTCANARY_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "controller/kube/kube_client.h"
#include "nlohmann/json.hpp"
#include "smartcanary/v1/rollout.grpc.pb.h"

// Helpers for tests that run against the real local control plane started by
// scripts/local-cluster.sh (KUBECONFIG) and the real canaryd binary.
namespace smartcanary::testing {

// The API server from $KUBECONFIG; fails the test if it is not set.
kube::KubeClient& Kube();

// A namespace of the test's own, deleted at the end.
class TestNamespace {
 public:
  TestNamespace();
  ~TestNamespace();
  const std::string& name() const { return name_; }
  // Creates objects from YAML text (one document each, `---` separated).
  void Apply(const std::string& yaml) const;

 private:
  std::string name_;
};

int FreePort();

// A program run by a test, killed when the test ends. Its output goes to
// $TEST_UNDECLARED_OUTPUTS_DIR (or the test log) under `name`.
class ChildProcess {
 public:
  ChildProcess(std::string name, std::vector<std::string> argv);
  ~ChildProcess() { Kill9(); }
  void Start();
  void Kill9();
  bool running() const { return pid_ > 0; }
  // Whether it has ended by itself (reaped then) or was never started.
  bool Exited();
  // SIGTERM, then its exit code; -1 (and SIGKILL) if it is still running
  // after `timeout`.
  int Terminate(absl::Duration timeout);

 private:
  std::string name_;
  std::vector<std::string> argv_;
  pid_t pid_ = -1;
};

// A canaryd process watching one namespace; kill -9 and restart at will.
// Plaintext (--grpc-insecure) unless `extra_flags` give
// --grpc-tls-cert-file; Stub() calls carry the cluster admin's token.
class CanarydProcess {
 public:
  explicit CanarydProcess(std::string ns,
                          std::vector<std::string> extra_flags = {});
  void Start();
  void Kill9() { process_->Kill9(); }
  bool Exited() { return process_->Exited(); }
  int Terminate(absl::Duration timeout) { return process_->Terminate(timeout); }
  std::string address() const {
    return "127.0.0.1:" + std::to_string(grpc_port_);
  }
  std::string metrics_url() const {
    return "http://127.0.0.1:" + std::to_string(http_port_) + "/metrics";
  }
  std::unique_ptr<v1::RolloutService::Stub> Stub() const;
  // Whether it leads now: only the leader answers a call already marked as
  // forwarded (NOT_FOUND for a rollout in `ns` that does not exist); a
  // standby refuses it rather than pass it on again.
  bool Leads(const std::string& ns) const;

 private:
  int grpc_port_;
  int http_port_;
  bool tls_ = false;
  std::unique_ptr<ChildProcess> process_;
};

// Debian's Prometheus scraping `targets` (host:port) every `scrape_interval`
// (a second unless a test needs a cluster's slower pace); on `data_dir` when
// given (a TSDB, e.g. backfilled by promtool), else a fresh one.
class PrometheusProcess {
 public:
  explicit PrometheusProcess(const std::vector<std::string>& targets,
                             absl::Duration scrape_interval = absl::Seconds(1),
                             const std::string& data_dir = "");
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }
  void Kill9() { process_->Kill9(); }
  // Until `promql` returns at least one sample (the first scrapes are in).
  bool WaitForData(const std::string& promql,
                   absl::Duration timeout = absl::Seconds(60)) const;

 private:
  int port_;
  std::unique_ptr<ChildProcess> process_;
};

// Every byte but letters and digits percent-encoded (a URL query value).
std::string UrlEncode(const std::string& text);

// GET url with optional "Name: value" headers; the body, or empty on failure.
std::string HttpGet(const std::string& url,
                    const std::vector<std::string>& headers = {});

struct HttpAnswer {
  int status = 0;  // 0: no answer (connection failed, timeout)
  std::string body;
};
// POST `body` to url with "Name: value" headers, whatever the status.
HttpAnswer HttpPost(const std::string& url, const std::string& body,
                    const std::vector<std::string>& headers = {},
                    absl::Duration timeout = absl::Seconds(60));

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr
};

// Runs the real canaryctl binary, with credentials from $KUBECONFIG (the
// cluster admin's token); plaintext (--insecure) unless told otherwise.
CommandResult Canaryctl(const std::string& server,
                        const std::vector<std::string>& args,
                        bool insecure = true);

// Runs `command` with /bin/sh; stdout and stderr together.
CommandResult RunShell(const std::string& command);

// Polls `done` until true or `timeout`; returns whether it became true.
bool WaitFor(const std::function<bool()>& done,
             absl::Duration timeout = absl::Seconds(60));

// Records every distinct canary weight a VirtualService route shows, in
// order, through a Kubernetes watch.
class WeightRecorder {
 public:
  WeightRecorder(std::string ns, std::string virtual_service,
                 int route_index = 0, int canary_destination = 1);
  ~WeightRecorder();
  std::vector<int> weights() const;

 private:
  std::string ns_, name_;
  int route_, canary_;
  mutable std::mutex mu_;
  std::vector<int> weights_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string RunfilePath(const std::string& target_path);

// A self-signed certificate for localhost and 127.0.0.1 (its own CA):
// `dir`/tls.crt and `dir`/tls.key.
void WriteLocalhostCertificate(const std::string& dir);

// canary-analyzer as the tests run it: on 127.0.0.1:`port`, querying the
// loopback Prometheus servers they start (the default allowlist refuses
// loopback), answering any caller (no shared token) unless `extra` flags
// say otherwise.
std::vector<std::string> LocalAnalyzerArgv(
    int port, const std::vector<std::string>& extra = {},
    const std::string& binary = RunfilePath("analysis/canary-analyzer"));

// A VirtualService with one route (stable 100 / canary 0) and a
// DestinationRule with subsets stable and canary (both version v1), both
// named `name`: the mesh objects of one subset-routed rollout.
std::string SubsetMeshYaml(const std::string& name);

// A StartRollout request for the subset-routed rollout `name` in `ns` over
// SubsetMeshYaml(name)'s objects, canary labels version=v2.
v1::StartRolloutRequest SubsetRolloutRequest(
    const std::string& ns, const std::string& name,
    const std::vector<v1::Step>& steps);

// The rollout `ns`/`name` as GetRollout answers (empty when it fails).
v1::Rollout GetRollout(v1::RolloutService::Stub& stub, const std::string& ns,
                       const std::string& name);

// Plan steps for StartRollout requests.
v1::Step SetWeightStep(int weight);
v1::Step PauseStep(int seconds = 0);  // 0: until promoted

}  // namespace smartcanary::testing

#endif  // SMARTCANARY_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_
