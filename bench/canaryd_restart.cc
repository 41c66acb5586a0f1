#include "bench/canaryd_restart.h"

#include <grpcpp/grpcpp.h>

#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bench/apiserver_requests.h"
#include "bench/canaryd_client.h"
#include "bench/process_usage.h"
#include "bench/weight_timeline.h"

namespace smartcanary::bench {
namespace {

constexpr absl::Duration kSettleTimeout = absl::Minutes(10);

// A channel of its own with short reconnect backoff: the shared subchannel
// would carry the killed process's backoff over to the fresh one.
std::shared_ptr<grpc::Channel> FreshChannel(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

}  // namespace

absl::Status MeasureRestart(const RestartSetup& setup, RestartResult& result) {
  const kube::KubeClient& kube = *setup.kube;
  const std::string http = absl::StrCat("http://127.0.0.1:", setup.http_port);
  const std::string metrics_url = http + "/metrics";
  result.weight_series_before =
      SeriesCount(testing::HttpGet(metrics_url), "canaryd_canary_weight");
  setup.canaryd->Kill9();
  auto before = ReadApiserverRequests(kube.config());
  if (!before.ok()) return before.status();
  const absl::Time start = absl::Now();
  setup.canaryd->Start();
  auto channel = FreshChannel(setup.grpc_port);
  if (!channel->WaitForConnected(
          absl::ToChronoTime(absl::Now() + absl::Seconds(60))) ||
      !testing::WaitFor(
          [&] { return testing::HttpGet(http + "/readyz") == "ok\n"; },
          absl::Minutes(2))) {
    return absl::UnavailableError("the fresh canaryd did not become ready");
  }
  result.ran = true;
  result.ready = absl::ToDoubleSeconds(absl::Now() - start);
  const pid_t pid = FindChild("canaryd");
  if (pid < 0) return absl::NotFoundError("cannot find canaryd's pid");
  auto stub = v1::RolloutService::NewStub(channel);
  // Polled on a thread of its own so that the aborts below do not delay
  // seeing it.
  std::optional<absl::Time> settled;
  std::string metrics;
  std::thread settle_watcher([&] {
    if (testing::WaitFor(
            [&] {
              metrics = testing::HttpGet(metrics_url);
              return MetricValue(metrics, "canaryd_reconciles_total") >=
                     setup.rollouts;
            },
            kSettleTimeout)) {
      settled = absl::Now();
    }
  });
  WeightTimeline timeline(kube, setup.ns);
  for (const std::string& name : setup.abort_targets) {
    const AbortTiming timing = AbortOne(*stub, timeline, setup.ns, name);
    if (timing.to_watch) {
      result.aborts.push_back(*timing.to_watch);
    } else {
      result.abort_errors.push_back(timing.error);
    }
  }
  settle_watcher.join();
  if (!settled) {
    return absl::DeadlineExceededError(
        "the fresh canaryd never reconciled every rollout");
  }
  result.settled = absl::ToDoubleSeconds(*settled - start);
  // Read again: the aborts' status writes have set their series by now.
  metrics = testing::HttpGet(metrics_url);
  result.weight_series_after = SeriesCount(metrics, "canaryd_canary_weight");
  auto usage = ReadProcessUsage(pid);
  if (!usage.ok()) return usage.status();
  result.usage = *usage;
  result.wall = absl::ToDoubleSeconds(absl::Now() - start);
  timeline.Stop();
  RequestCounts own;
  own.Add("LIST virtualservices", timeline.lists());
  own.Add("WATCH virtualservices", timeline.watches());
  auto after = ReadApiserverRequests(kube.config());
  if (!after.ok()) return after.status();
  result.requests = Difference(*after, *before, own);
  return absl::OkStatus();
}

}  // namespace smartcanary::bench
