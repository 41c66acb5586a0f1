#ifndef SMARTCANARY_BENCH_CANARYD_CLIENT_H_
#define SMARTCANARY_BENCH_CANARYD_CLIENT_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bench/weight_timeline.h"
#include "smartcanary/v1/rollout.grpc.pb.h"

// What the benchmark asks canaryd: commands over gRPC, timed against the
// VirtualService watch, and counters from its /metrics.
namespace smartcanary::bench {

// How long a command and the weight change it makes may take.
inline constexpr absl::Duration kCommandWait = absl::Seconds(60);

struct AbortTiming {
  std::optional<double> to_watch;  // seconds: call → the watch sees 100/0
  double reply = 0;                // seconds: call → gRPC reply
  std::string error;
};

// One Abort, timed from just before the call.
AbortTiming AbortOne(v1::RolloutService::Stub& stub, WeightTimeline& timeline,
                     const std::string& ns, const std::string& name);

// Back to 20% after an abort: Retry restarts the plan; waits for the watch.
absl::Status RetryToTwenty(v1::RolloutService::Stub& stub,
                           WeightTimeline& timeline, const std::string& ns,
                           const std::string& name);

// A counter of canaryd's /metrics text, or 0.
double MetricValue(const std::string& text, absl::string_view name);

// How many series of `name` the /metrics text has.
int SeriesCount(const std::string& text, absl::string_view name);

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_CANARYD_CLIENT_H_
