#include "bench/argo/compare_run.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "bench/argo/argo_objects.h"
#include "bench/argo/compare_report.h"
#include "bench/argo/failed_measurement.h"
#include "bench/canaryd_client.h"
#include "bench/process_usage.h"
#include "bench/scale_objects.h"
#include "bench/weight_timeline.h"
#include "controller/kube/resources.h"
#include "smartcanary/v1/rollout.grpc.pb.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::bench::argo {
namespace {

using nlohmann::json;

constexpr int kWriters = 4;  // the benchmark's parallel writes
constexpr absl::Duration kRampTimeout = absl::Minutes(15);
constexpr absl::Duration kVerdictWait = absl::Minutes(3);
constexpr kube::Resource kRollouts{kArgoApi, "rollouts"};
constexpr kube::Resource kArgoTemplates{kArgoApi, "analysistemplates"};
constexpr kube::Resource kAnalysisRuns{kArgoApi, "analysisruns"};

template <typename... Args>
void Progress(const absl::FormatSpec<Args...>& format, const Args&... args) {
  absl::FPrintF(stderr, "[argo-compare] %s\n",
                absl::StrFormat(format, args...));
}

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

std::string Name(int i) { return absl::StrFormat("s%04d", i); }

// Runs `work(i)` for every i of `items` on kWriters threads; the first error.
absl::Status ForAll(const std::vector<int>& items,
                    const std::function<absl::Status(int)>& work) {
  std::atomic<size_t> next{0};
  absl::Mutex mu;
  absl::Status first;
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&] {
      for (size_t k = next++; k < items.size(); k = next++) {
        absl::Status done = work(items[k]);
        absl::MutexLock lock(&mu);
        if (!done.ok() && first.ok()) first = done;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return first;
}

// Starts a program on ports from FreePort, and again on fresh ones if it
// exits before `ready`: on a shared machine another process can take a port
// between FreePort and the program's bind. Null after three tries.
std::unique_ptr<testing::ChildProcess> StartOnFreePorts(
    const std::string& name, int count,
    const std::function<std::vector<std::string>(const std::vector<int>&)>&
        argv,
    const std::function<bool(const std::vector<int>&)>& ready,
    std::vector<int>& ports) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    ports.clear();
    for (int k = 0; k < count; ++k) ports.push_back(testing::FreePort());
    auto child = std::make_unique<testing::ChildProcess>(
        absl::StrCat(name, attempt > 0 ? absl::StrCat("-", attempt) : ""),
        argv(ports));
    bool up = false;
    testing::WaitFor([&] { return (up = ready(ports)) || child->Exited(); },
                     absl::Seconds(60));
    if (up) return child;
  }
  return nullptr;
}

bool GrpcUp(int port) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                             grpc::InsecureChannelCredentials())
      ->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
}

// What differs between the controllers: how they start, how a canary
// starts, how an abort is sent.
class Driver {
 public:
  virtual ~Driver() = default;
  // Starts the controller on `ns`; everything it needs before a canary.
  virtual absl::Status Start(const std::vector<int>& all) = 0;
  virtual pid_t pid() const = 0;
  virtual absl::Status StartCanary(int i, const absl::Time* fail_at) = 0;
  // Sends an abort; `sent` is when.
  virtual absl::Status Abort(int i, absl::Time& sent) = 0;
  // When rollout i's first failing measurement was taken, from its status.
  virtual std::optional<absl::Time> FirstFailure(int i) = 0;
};

class CanarydDriver : public Driver {
 public:
  CanarydDriver(const CompareSetup& setup, std::string ns, OwnRequests& own)
      : setup_(setup), ns_(std::move(ns)), own_(own) {}

  absl::Status Start(const std::vector<int>&) override {
    auto posted = setup_.kube->Post(
        kube::kAnalysisTemplates.Collection(ns_),
        DeadlineTemplate(ns_, setup_.prometheus_url, setup_.interval));
    if (!posted.ok()) return posted.status();
    std::vector<int> ports;
    analyzer_ = StartOnFreePorts(
        ns_ + "-analyzer", 1,
        [&](const std::vector<int>& p) {
          return testing::LocalAnalyzerArgv(p[0], {}, setup_.analyzer);
        },
        [](const std::vector<int>& p) { return GrpcUp(p[0]); }, ports);
    if (analyzer_ == nullptr)
      return absl::UnavailableError("canary-analyzer did not start (its log)");
    const int analyzer_port = ports[0];
    canaryd_ = StartOnFreePorts(
        ns_ + "-canaryd", 2,
        [&](const std::vector<int>& p) {
          return std::vector<std::string>{
              setup_.canaryd,
              absl::StrCat("--grpc-listen=127.0.0.1:", p[0]),
              absl::StrCat("--http-listen=127.0.0.1:", p[1]),
              "--namespace=" + ns_,
              absl::StrCat("--analyzer=127.0.0.1:", analyzer_port),
              "--kubeconfig=" + setup_.kubeconfig_path,
              "--grpc-insecure",
              "--grpc-auth=none"};
        },
        [](const std::vector<int>& p) {
          return testing::HttpGet(absl::StrCat("http://127.0.0.1:", p[1],
                                               "/readyz")) == "ok\n";
        },
        ports);
    if (canaryd_ == nullptr)
      return absl::UnavailableError("canaryd did not become ready (its log)");
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", ports[0]),
                                       grpc::InsecureChannelCredentials());
    stub_ = v1::RolloutService::NewStub(channel);
    pid_ = FindChild("canaryd");
    return pid_ > 0 ? absl::OkStatus()
                    : absl::NotFoundError("cannot find canaryd's pid");
  }
  pid_t pid() const override { return pid_; }

  absl::Status StartCanary(int i, const absl::Time* fail_at) override {
    own_.Add("POST canaryrollouts");
    return setup_.kube
        ->Post(kube::kCanaryRollouts.Collection(ns_),
               CanaryRollout(ns_, Name(i), fail_at))
        .status();
  }

  absl::Status Abort(int i, absl::Time& sent) override {
    v1::RolloutRef ref;
    ref.set_namespace_(ns_);
    ref.set_name(Name(i));
    v1::Rollout out;
    grpc::ClientContext context;
    sent = absl::Now();
    context.set_deadline(absl::ToChronoTime(sent + kCommandWait));
    const grpc::Status status = stub_->Abort(&context, ref, &out);
    return status.ok() ? absl::OkStatus()
                       : absl::InternalError(status.error_message());
  }

  std::optional<absl::Time> FirstFailure(int i) override {
    auto rollout = setup_.kube->Get(kube::kCanaryRollouts.Item(ns_, Name(i)));
    return rollout.ok() ? OursFirstFailure(*rollout) : std::nullopt;
  }

 private:
  const CompareSetup& setup_;
  const std::string ns_;
  OwnRequests& own_;
  std::unique_ptr<testing::ChildProcess> analyzer_, canaryd_;
  std::unique_ptr<v1::RolloutService::Stub> stub_;
  pid_t pid_ = -1;
};

class ArgoDriver : public Driver {
 public:
  ArgoDriver(const CompareSetup& setup, std::string ns, OwnRequests& own)
      : setup_(setup), ns_(std::move(ns)), own_(own) {}

  // Every Rollout is deployed at revision 1 first (Argo deploys a first
  // revision at once, without steps) and waited healthy: not measured.
  absl::Status Start(const std::vector<int>& all) override {
    const kube::KubeClient& kube = *setup_.kube;
    auto posted = kube.Post(
        kArgoTemplates.Collection(ns_),
        ArgoDeadlineTemplate(ns_, setup_.prometheus_url, setup_.interval));
    if (!posted.ok()) return posted.status();
    standin_ = std::make_unique<testing::ChildProcess>(
        ns_ + "-pod-standin",
        std::vector<std::string>{setup_.standin,
                                 "--kubeconfig=" + setup_.kubeconfig_path,
                                 "--namespace=" + ns_});
    std::vector<int> ports;
    argo_ = StartOnFreePorts(
        ns_ + "-rollouts-controller", 2,
        [&](const std::vector<int>& p) {
          return std::vector<std::string>{
              setup_.argo,
              "--kubeconfig=" + setup_.kubeconfig_path,
              "--namespaced",
              "--namespace=" + ns_,
              "--leader-elect=false",
              absl::StrCat("--metricsPort=", p[0]),
              absl::StrCat("--healthzPort=", p[1])};
        },
        [](const std::vector<int>& p) {
          return !testing::HttpGet(
                      absl::StrCat("http://127.0.0.1:", p[0], "/metrics"))
                      .empty();
        },
        ports);
    if (argo_ == nullptr)
      return absl::UnavailableError(
          "Argo Rollouts' controller did not start (its log)");
    absl::Status created = ForAll(all, [&](int i) {
      return kube
          .Post(kRollouts.Collection(ns_),
                ArgoRollout(ns_, Name(i), 1, nullptr))
          .status();
    });
    if (!created.ok()) return created;
    int healthy = 0;
    if (!testing::WaitFor(
            [&] {
              auto listed = kube.List(kRollouts.Collection(ns_));
              if (!listed.ok()) return false;
              healthy = 0;
              for (const json& rollout : listed->items) {
                const json status = rollout.value("status", json::object());
                if (status.is_object() &&
                    status.value("phase", "") == "Healthy")
                  ++healthy;
              }
              return healthy == static_cast<int>(all.size());
            },
            kRampTimeout)) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "%d of %d Argo Rollouts healthy at revision 1 (see the logs of "
          "compare-argo-rollouts and compare-pod-standin, and "
          "kube-controller-manager's)",
          healthy, all.size()));
    }
    pid_ = FindChild("rollouts-contro");
    return pid_ > 0 ? absl::OkStatus()
                    : absl::NotFoundError("cannot find Argo's pid");
  }
  pid_t pid() const override { return pid_; }

  absl::Status StartCanary(int i, const absl::Time* fail_at) override {
    own_.Add("PATCH rollouts");
    return setup_.kube
        ->MergePatch(kRollouts.Item(ns_, Name(i)),
                     ArgoRevisionPatch(2, fail_at))
        .status();
  }

  absl::Status Abort(int i, absl::Time& sent) override {
    own_.Add("PATCH rollouts/status");
    sent = absl::Now();
    return setup_.kube
        ->MergePatch(kRollouts.Item(ns_, Name(i)) + "/status", ArgoAbortPatch())
        .status();
  }

  // From the AnalysisRun the Rollout owns.
  std::optional<absl::Time> FirstFailure(int i) override {
    auto runs = setup_.kube->List(kAnalysisRuns.Collection(ns_));
    if (!runs.ok()) return std::nullopt;
    for (const json& run : runs->items) {
      const json owners = run.value("metadata", json::object())
                              .value("ownerReferences", json::array());
      if (!owners.is_array()) continue;
      for (const json& owner : owners) {
        if (owner.is_object() && owner.value("kind", "") == "Rollout" &&
            owner.value("name", "") == Name(i)) {
          return ArgoFirstFailure(run);
        }
      }
    }
    return std::nullopt;
  }

 private:
  const CompareSetup& setup_;
  const std::string ns_;
  OwnRequests& own_;
  std::unique_ptr<testing::ChildProcess> standin_, argo_;
  pid_t pid_ = -1;
};

// min(5, n/2) or a tenth of the rollouts, whichever is more, spread evenly,
// get the failing analysis; the rest are aborted.
std::vector<bool> DeadlineSet(int n) {
  const int count = std::max(std::min(5, n / 2), n / 10);
  std::vector<bool> deadline(n, false);
  for (int j = 0; j < count; ++j) deadline[j * n / count] = true;
  return deadline;
}

}  // namespace

absl::StatusOr<SideResult> RunSide(const CompareSetup& setup,
                                   Controller controller, int n) {
  const kube::KubeClient& kube = *setup.kube;
  const bool argo = controller == Controller::kArgo;
  SideResult result;
  result.controller = controller;
  result.rollouts = n;
  const std::string ns =
      absl::StrCat(argo ? "argo-" : "canaryd-", n, "-", getpid());
  Progress("%s: %d rollouts in namespace %s",
           argo ? "Argo Rollouts" : "canaryd", n, ns);
  auto made =
      kube.Post("/api/v1/namespaces", json{{"apiVersion", "v1"},
                                           {"kind", "Namespace"},
                                           {"metadata", {{"name", ns}}}});
  if (!made.ok()) return made.status();
  std::vector<int> all, plain, deadline;
  const std::vector<bool> is_deadline = DeadlineSet(n);
  for (int i = 0; i < n; ++i) {
    all.push_back(i);
    (is_deadline[i] ? deadline : plain).push_back(i);
  }
  absl::Status meshed = ForAll(all, [&](int i) {
    auto vs = kube.Post(kube::kVirtualServices.Collection(ns),
                        VirtualService(ns, Name(i)));
    if (!vs.ok()) return vs.status();
    return kube
        .Post(kube::kDestinationRules.Collection(ns),
              DestinationRule(ns, Name(i)))
        .status();
  });
  if (!meshed.ok()) return meshed;

  OwnRequests own;
  std::unique_ptr<Driver> driver;
  if (argo) {
    driver = std::make_unique<ArgoDriver>(setup, ns, own);
  } else {
    driver = std::make_unique<CanarydDriver>(setup, ns, own);
  }
  absl::Status started = driver->Start(all);
  if (!started.ok()) return started;
  AnonPeakSampler anon_peak(driver->pid());
  WeightTimeline timeline(kube, ns);
  if (!timeline.WaitFor(Name(0), 100, 0, absl::InfinitePast(),
                        absl::Now() + absl::Seconds(30))) {
    return absl::UnavailableError("the VirtualService watch saw nothing");
  }
  auto before = ReadApiserverRequests(kube.config());
  if (!before.ok()) return before.status();
  auto usage_before = ReadProcessUsage(driver->pid());
  if (!usage_before.ok()) return usage_before.status();
  const absl::Time window_start = absl::Now();

  // Every plain rollout to its first pause (80/20 on the watch).
  std::vector<absl::Time> canary_started(n);
  absl::Status canaries = ForAll(plain, [&](int i) {
    canary_started[i] = absl::Now();
    return driver->StartCanary(i, nullptr);
  });
  if (!canaries.ok()) return canaries;
  for (int i : plain) {
    if (!timeline.WaitFor(Name(i), 80, 20, canary_started[i],
                          window_start + kRampTimeout)) {
      return absl::DeadlineExceededError(
          absl::StrCat(Name(i), " never reached 80/20"));
    }
  }
  Progress("%d at their first pause after %.1f s", plain.size(),
           Seconds(absl::Now() - window_start));

  // Aborts one at a time, spread over the plain rollouts.
  const int aborts = std::min<int>(setup.aborts, plain.size());
  for (int k = 0; k < aborts; ++k) {
    const int i = plain[k * plain.size() / aborts];
    absl::Time sent;
    absl::Status aborted = driver->Abort(i, sent);
    const auto seen = aborted.ok() ? timeline.WaitFor(Name(i), 100, 0, sent,
                                                      sent + kCommandWait)
                                   : std::nullopt;
    if (!seen) {
      Progress("abort %s: %s", Name(i),
               aborted.ok() ? "the watch never saw 100/0" : aborted.ToString());
      ++result.failed_samples;
      continue;
    }
    result.abort_seconds.push_back(Seconds(*seen - sent));
  }

  // The failing analysis: measurements pass until fail_at, a whole second
  // far enough ahead for every deadline rollout to reach its pause.
  const absl::Time fail_at = absl::FromUnixSeconds(absl::ToUnixSeconds(
      absl::Now() + absl::Seconds(20) + n * absl::Milliseconds(20)));
  absl::Status failing = ForAll(deadline, [&](int i) {
    canary_started[i] = absl::Now();
    return driver->StartCanary(i, &fail_at);
  });
  if (!failing.ok()) return failing;
  std::vector<std::pair<int, absl::Time>> rolled_back;
  for (int i : deadline) {
    const auto at_20 = timeline.WaitFor(Name(i), 80, 20, canary_started[i],
                                        fail_at + kVerdictWait);
    // The failing measurement is taken at fail_at or later, and no earlier
    // than the pause.
    const absl::Time from = at_20 ? std::max(fail_at, *at_20) : fail_at;
    const auto seen =
        at_20 ? timeline.WaitFor(Name(i), 100, 0, from, fail_at + kVerdictWait)
              : std::nullopt;
    if (!seen) {
      Progress("failing analysis of %s: never back at 100/0", Name(i));
      ++result.failed_samples;
      continue;
    }
    rolled_back.emplace_back(i, *seen);
  }

  auto after = ReadApiserverRequests(kube.config());
  if (!after.ok()) return after.status();
  auto usage_after = ReadProcessUsage(driver->pid());
  if (!usage_after.ok()) return usage_after.status();
  result.wall_seconds = Seconds(absl::Now() - window_start);
  result.peak_rss_mb = usage_after->peak_rss_mb;
  result.peak_anon_mb = anon_peak.PeakMb();
  result.cpu_seconds = usage_after->cpu_seconds - usage_before->cpu_seconds;
  // The watch's first LIST was before the window; its open WATCH is counted
  // only when it ends, after it.
  own.Add("LIST virtualservices", timeline.lists() - 1);
  own.Add("WATCH virtualservices", timeline.watches() - 1);
  result.requests =
      ControllerRequests(Difference(*after, *before, own.counts()));
  // Read after the window's counts: not the controller's requests.
  for (const auto& [i, seen] : rolled_back) {
    const auto failed = driver->FirstFailure(i);
    if (!failed || *failed > seen) {
      Progress("failing analysis of %s: no failed measurement before 100/0",
               Name(i));
      ++result.failed_samples;
      continue;
    }
    result.failure_seconds.push_back(Seconds(seen - *failed));
  }
  // Each canary: its weight and its pause; each abort and rollback: one.
  result.steps = 2 * n + static_cast<int>(result.abort_seconds.size() +
                                          result.failure_seconds.size());
  timeline.Stop();
  return result;
}

}  // namespace smartcanary::bench::argo
