#include "bench/scale_run.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "bench/canaryd_client.h"
#include "bench/canaryd_restart.h"
#include "bench/control_burst.h"
#include "bench/scale_objects.h"
#include "bench/silent_server.h"
#include "bench/weight_timeline.h"
#include "controller/kube/resources.h"
#include "smartcanary/v1/rollout.grpc.pb.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::bench {
namespace {

using nlohmann::json;

constexpr int kCreators = 4;  // the benchmark's parallel POSTs
constexpr absl::Duration kRampTimeout = absl::Minutes(15);
constexpr absl::Duration kVerdictWait = absl::Minutes(3);

template <typename... Args>
void Progress(const absl::FormatSpec<Args...>& format, const Args&... args) {
  absl::FPrintF(stderr, "[controller-scale] %s\n",
                absl::StrFormat(format, args...));
}

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

std::string Name(int i) { return absl::StrFormat("r%04d", i); }

// Every tenth rollout hangs; max(5, 5%) of the others, spread evenly, fail
// at the deadline; the rest have no analysis.
std::vector<Background> Assign(int n, ScaleResult& result) {
  std::vector<Background> kinds(n, Background::kNone);
  std::vector<int> rest;
  for (int i = 0; i < n; ++i) {
    if (i % 10 == 0) {
      kinds[i] = Background::kHanging;
      ++result.hanging;
    } else {
      rest.push_back(i);
    }
  }
  const int deadline =
      std::min(static_cast<int>(rest.size()), std::max(5, n / 20));
  for (int j = 0; j < deadline; ++j)
    kinds[rest[j * rest.size() / deadline]] = Background::kDeadline;
  result.deadline = deadline;
  return kinds;
}

// POSTs object(i) for i in [0, n) on kCreators threads; `started[i]` is
// when its POST was sent. Returns the first error.
absl::Status CreateAll(const kube::KubeClient& kube, OwnRequests& own,
                       const kube::Resource& resource, const std::string& ns,
                       int n, const std::function<json(int)>& object,
                       std::vector<absl::Time>* started = nullptr) {
  std::atomic<int> next{0};
  absl::Mutex mu;
  absl::Status first = absl::OkStatus();
  std::vector<std::thread> creators;
  for (int t = 0; t < kCreators; ++t) {
    creators.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        const json body = object(i);
        if (started != nullptr) (*started)[i] = absl::Now();
        auto created = kube.Post(resource.Collection(ns), body);
        own.Add(absl::StrCat("POST ", resource.plural));
        absl::MutexLock lock(&mu);
        if (!created.ok() && first.ok()) first = created.status();
      }
    });
  }
  for (std::thread& creator : creators) creator.join();
  return first;
}

// The timestamp of the earliest Failed measurement in a rollout's status.
std::optional<absl::Time> FirstFailure(const json& rollout) {
  const json status = rollout.value("status", json::object());
  const json run = status.value("backgroundAnalysis", json::object());
  const json metrics = run.value("metrics", json::array());
  std::optional<absl::Time> first;
  if (!metrics.is_array()) return first;
  for (const json& metric : metrics) {
    if (!metric.is_object()) continue;
    const json measurements = metric.value("measurements", json::array());
    if (!measurements.is_array()) continue;
    for (const json& m : measurements) {
      if (!m.is_object() || m.value("phase", "") != "Failed") continue;
      absl::Time at;
      std::string error;
      if (absl::ParseTime(absl::RFC3339_full, m.value("at", ""), &at, &error) &&
          (!first || at < *first)) {
        first = at;
      }
    }
  }
  return first;
}

}  // namespace

absl::StatusOr<ScaleResult> RunScale(const ScaleSetup& setup, int n) {
  const kube::KubeClient& kube = *setup.kube;
  ScaleResult result;
  result.rollouts = n;
  const std::vector<Background> kinds = Assign(n, result);
  OwnRequests own;
  const std::string ns = absl::StrCat("scale-", n, "-", getpid());
  Progress("%d rollouts in namespace %s", n, ns);
  auto made =
      kube.Post("/api/v1/namespaces", json{{"apiVersion", "v1"},
                                           {"kind", "Namespace"},
                                           {"metadata", {{"name", ns}}}});
  if (!made.ok()) return made.status();
  SilentServer silent(2 * n + 64);
  for (const json& analysis :
       {HangingTemplate(ns, silent.url()),
        DeadlineTemplate(ns, setup.prometheus_url, setup.deadline_interval)}) {
    auto posted = kube.Post(kube::kAnalysisTemplates.Collection(ns), analysis);
    if (!posted.ok()) return posted.status();
  }
  // Before the API server's counts are first read: not subtracted.
  OwnRequests mesh_requests;
  for (auto [resource, object] :
       {std::pair{&kube::kVirtualServices, &VirtualService},
        std::pair{&kube::kDestinationRules, &DestinationRule}}) {
    absl::Status created =
        CreateAll(kube, mesh_requests, *resource, ns, n,
                  [&](int i) { return object(ns, Name(i)); });
    if (!created.ok()) return created;
  }

  const int analyzer_port = testing::FreePort();
  testing::ChildProcess analyzer(
      absl::StrCat("scale-analyzer-", n),
      testing::LocalAnalyzerArgv(analyzer_port, {}, setup.analyzer));
  auto before = ReadApiserverRequests(kube.config());
  if (!before.ok()) return before.status();
  const int grpc_port = testing::FreePort(), http_port = testing::FreePort();
  std::vector<std::string> argv = {
      setup.canaryd, absl::StrCat("--grpc-listen=127.0.0.1:", grpc_port),
      absl::StrCat("--http-listen=127.0.0.1:", http_port), "--namespace=" + ns,
      absl::StrCat("--analyzer=127.0.0.1:", analyzer_port),
      "--kubeconfig=" + setup.kubeconfig_path,
      // The benchmark measures reconciling: its API request counts leave
      // out the RolloutService's reviews, and its client sends no token.
      "--grpc-insecure", "--grpc-auth=none"};
  argv.insert(argv.end(), setup.canaryd_flags.begin(),
              setup.canaryd_flags.end());
  const absl::Time started = absl::Now();
  testing::ChildProcess canaryd(absl::StrCat("scale-canaryd-", n), argv);
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                     grpc::InsecureChannelCredentials());
  const std::string http = absl::StrCat("http://127.0.0.1:", http_port);
  if (!channel->WaitForConnected(
          absl::ToChronoTime(absl::Now() + absl::Seconds(30))) ||
      !testing::WaitFor(
          [&] { return testing::HttpGet(http + "/readyz") == "ok\n"; })) {
    return absl::UnavailableError("canaryd did not become ready (see its log)");
  }
  const pid_t pid = FindChild("canaryd");
  if (pid < 0) return absl::NotFoundError("cannot find canaryd's pid");
  auto stub = v1::RolloutService::NewStub(channel);
  WeightTimeline timeline(kube, ns);
  if (!timeline.WaitFor(Name(0), 100, 0, absl::InfinitePast(),
                        absl::Now() + absl::Seconds(30))) {
    return absl::UnavailableError("the VirtualService watch saw nothing");
  }

  // 5. Creation until every rollout is at 20%.
  const absl::Time fail_at = absl::FromUnixSeconds(absl::ToUnixSeconds(
      absl::Now() + absl::Seconds(60) + n * absl::Milliseconds(100)));
  std::vector<int> plain;
  for (int i = 0; i < n; ++i)
    if (kinds[i] == Background::kNone) plain.push_back(i);
  std::vector<bool> aborted(n, false);
  std::vector<absl::Time> created_at(n);
  const absl::Time first_created = absl::Now();
  // 1, under load: aborts one at a time while the other rollouts are still
  // being created and stepped, each as soon as its rollout is at 20%; the
  // rollouts are spread over the creation order. `aborted` is this
  // thread's until it is joined.
  std::atomic<bool> ramping{true};
  std::vector<AbortTiming> ramp_aborts;
  std::thread ramp_aborter([&] {
    const int samples = std::min<int>(setup.ramp_aborts, plain.size());
    for (int k = 0; k < samples && ramping; ++k) {
      const int i = plain[k * plain.size() / samples];
      if (!timeline.WaitFor(Name(i), 80, 20, first_created,
                            first_created + kRampTimeout) ||
          !ramping) {
        break;
      }
      ramp_aborts.push_back(AbortOne(*stub, timeline, ns, Name(i)));
      aborted[i] = ramp_aborts.back().to_watch.has_value();
    }
  });
  absl::Status created = CreateAll(
      kube, own, kube::kCanaryRollouts, ns, n,
      [&](int i) { return Rollout(ns, Name(i), kinds[i], fail_at); },
      &created_at);
  if (!created.ok()) {
    ramping = false;
    ramp_aborter.join();
    return created;
  }
  Progress("created in %.1f s", Seconds(absl::Now() - first_created));
  std::vector<std::optional<absl::Time>> at_20(n);
  absl::Time last_20 = first_created;
  for (int i = 0; i < n; ++i) {
    at_20[i] = timeline.WaitFor(Name(i), 80, 20, created_at[i],
                                first_created + kRampTimeout);
    if (!at_20[i]) continue;
    ++result.reached_20;
    result.each_to_20.push_back(Seconds(*at_20[i] - created_at[i]));
    last_20 = std::max(last_20, *at_20[i]);
  }
  result.all_at_20 = Seconds(last_20 - first_created);
  ramping = false;
  ramp_aborter.join();
  int aborts_done = 0;
  for (const AbortTiming& timing : ramp_aborts) {
    if (timing.to_watch) {
      result.abort_during_ramp.push_back(*timing.to_watch);
      ++aborts_done;
    } else {
      result.abort_errors.push_back(timing.error);
    }
  }
  auto ramped = ReadApiserverRequests(kube.config());
  if (!ramped.ok()) return ramped.status();
  RequestCounts own_ramp = own.counts();
  own_ramp.Add("LIST virtualservices", timeline.lists());
  result.ramp_requests = Difference(*ramped, *before, own_ramp);
  result.ramp_steps = 2 * result.reached_20 + aborts_done;
  Progress("%d/%d at 20%% after %.1f s; failing from %s", result.reached_20, n,
           result.all_at_20, absl::FormatTime(fail_at));

  // 2. Failed verdict at the deadline until traffic is back on stable.
  int rolled_back = 0;
  for (int i = 0; i < n; ++i) {
    if (kinds[i] != Background::kDeadline) continue;
    auto back =
        timeline.WaitFor(Name(i), 100, 0, at_20[i].value_or(first_created),
                         fail_at + kVerdictWait);
    if (!back) {
      ++result.verdict_missing;
      continue;
    }
    ++rolled_back;
    result.verdict_from_deadline.push_back(Seconds(*back - fail_at));
    auto object = kube.Get(kube::kCanaryRollouts.Item(ns, Name(i)));
    own.Add("GET canaryrollouts");
    if (!object.ok()) continue;
    if (auto failed = FirstFailure(*object))
      result.verdict_from_measurement.push_back(Seconds(*back - *failed));
  }
  Progress("failed verdicts: %d rolled back, %d never", rolled_back,
           result.verdict_missing);

  // 1. Aborts, one at a time and then all at once, spread over the rollouts
  // without analysis; one already aborted is restarted (Retry) first.
  int retries = 0;
  auto make_ready = [&](int i) -> absl::Status {
    if (!aborted[i]) return absl::OkStatus();
    ++retries;
    absl::Status restarted = RetryToTwenty(*stub, timeline, ns, Name(i));
    if (restarted.ok()) aborted[i] = false;
    return restarted;
  };
  result.hanging_queries_before = silent.accepted();
  size_t cursor = 0;
  for (int k = 0; k < setup.aborts && !plain.empty(); ++k) {
    const int i = plain[cursor++ % plain.size()];
    if (absl::Status ready = make_ready(i); !ready.ok()) {
      result.abort_errors.push_back(std::string(ready.message()));
      continue;
    }
    const AbortTiming timing = AbortOne(*stub, timeline, ns, Name(i));
    result.abort_reply.push_back(timing.reply);
    if (timing.to_watch) {
      result.abort_one_at_a_time.push_back(*timing.to_watch);
      aborted[i] = true;
      ++aborts_done;
    } else {
      result.abort_errors.push_back(timing.error);
    }
  }
  std::vector<int> burst;
  for (int k = 0; k < std::min<int>(setup.burst, plain.size()); ++k) {
    const int i = plain[cursor++ % plain.size()];
    if (absl::Status ready = make_ready(i); !ready.ok()) {
      result.abort_errors.push_back(std::string(ready.message()));
      continue;
    }
    burst.push_back(i);
  }
  std::vector<AbortTiming> burst_timings(burst.size());
  absl::Notification go;
  std::vector<std::thread> senders;
  for (size_t k = 0; k < burst.size(); ++k) {
    senders.emplace_back([&, k] {
      go.WaitForNotification();
      burst_timings[k] = AbortOne(*stub, timeline, ns, Name(burst[k]));
    });
  }
  go.Notify();
  for (std::thread& sender : senders) sender.join();
  for (size_t k = 0; k < burst.size(); ++k) {
    const AbortTiming& timing = burst_timings[k];
    if (timing.to_watch) {
      result.abort_burst.push_back(*timing.to_watch);
      aborted[burst[k]] = true;
      ++aborts_done;
    } else {
      result.abort_errors.push_back(timing.error);
    }
  }
  result.hanging_queries_after = silent.accepted();
  Progress("aborts: %d one at a time, %d at once, %d errors",
           static_cast<int>(result.abort_one_at_a_time.size()),
           static_cast<int>(result.abort_burst.size()),
           static_cast<int>(result.abort_errors.size()));

  // Targets for aborts right after the restart below: rollouts at 20%,
  // restarted (Retry) first if aborted; counted as steps like the others.
  std::vector<std::string> restart_targets;
  for (auto it = plain.rbegin();
       it != plain.rend() &&
       static_cast<int>(restart_targets.size()) < setup.restart_aborts;
       ++it) {
    if (make_ready(*it).ok()) restart_targets.push_back(Name(*it));
  }

  // 3 and 4: what canaryd used.
  const absl::Time end = absl::Now();
  auto usage = ReadProcessUsage(pid);
  if (!usage.ok()) return usage.status();
  result.usage = *usage;
  result.wall = Seconds(end - started);
  result.rollout_minutes = n * Seconds(end - first_created) / 60;
  const std::string metrics = testing::HttpGet(http + "/metrics");
  result.reconciles = MetricValue(metrics, "canaryd_reconciles_total");
  result.reconcile_errors =
      MetricValue(metrics, "canaryd_reconcile_errors_total");
  timeline.Stop();
  own.Add("LIST virtualservices", timeline.lists());
  own.Add("WATCH virtualservices", timeline.watches());
  auto after = ReadApiserverRequests(kube.config());
  if (!after.ok()) return after.status();
  result.requests = Difference(*after, *before, own.counts());
  // After the last count: the control's requests are not canaryd's.
  if (!burst.empty()) {
    auto control = ControlBurst(kube, ns, burst.size());
    if (!control.ok()) return control.status();
    result.control_burst = *control;
  }
  if (setup.restart_aborts > 0) {
    RestartSetup restart{&kube,
                         ns,
                         n,
                         &canaryd,
                         grpc_port,
                         http_port,
                         std::move(restart_targets)};
    Progress("restarting canaryd");
    if (absl::Status measured = MeasureRestart(restart, result.restart);
        !measured.ok()) {
      return measured;
    }
  }
  // setWeight 20 and the pause per rollout and per restart, plus each
  // rollback and abort.
  result.steps = 2 * n + 2 * retries + rolled_back + aborts_done;
  return result;
}

}  // namespace smartcanary::bench
