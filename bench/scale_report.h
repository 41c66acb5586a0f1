#ifndef SMARTCANARY_BENCH_SCALE_REPORT_H_
#define SMARTCANARY_BENCH_SCALE_REPORT_H_

#include <string>
#include <vector>

#include "bench/apiserver_requests.h"
#include "bench/process_usage.h"

namespace smartcanary::bench {

// A fresh canaryd started (after kill -9 of the first) with every rollout
// already there: what a crash, an eviction or a leader change costs.
struct RestartResult {
  bool ran = false;
  double ready = 0;            // start → /readyz (every watch listed)
  double settled = 0;          // start → canaryd_reconciles_total >= N
  std::vector<double> aborts;  // one at a time right after /readyz
  std::vector<std::string> abort_errors;
  // The fresh canaryd's, from its start until it has settled and the
  // aborts are done.
  ProcessUsage usage;
  double wall = 0;
  RequestCounts requests;
  // Rollouts with a canaryd_canary_weight series, before the kill (first
  // canaryd) and once settled (fresh one).
  int weight_series_before = 0;
  int weight_series_after = 0;
};

// What one run of the controller scale benchmark at N rollouts measured.
// Times are seconds.
struct ScaleResult {
  int rollouts = 0;
  int hanging = 0;   // with a background analysis that never gets an answer
  int deadline = 0;  // with a background analysis that fails at a set time
  // Creation of the first rollout until the watch saw every one at 20%.
  double all_at_20 = 0;
  int reached_20 = 0;
  std::vector<double> each_to_20;  // one rollout's creation until 20%
  // Abort call until the watch saw stable 100 / canary 0.
  std::vector<double> abort_one_at_a_time;
  std::vector<double> abort_reply;  // the same aborts' gRPC replies
  // One at a time while the other rollouts are still being created and
  // stepped to 20%.
  std::vector<double> abort_during_ramp;
  std::vector<double> abort_burst;  // aborts sent all at once
  std::vector<std::string> abort_errors;
  // The API server alone under the burst's concurrency (ControlBurst).
  std::vector<double> control_burst;
  // Queries the silent Prometheus held open when the aborts began / ended.
  int hanging_queries_before = 0;
  int hanging_queries_after = 0;
  // Failed verdict until the watch saw stable 100 / canary 0: from the first
  // failing measurement's timestamp in status, and from the deadline.
  std::vector<double> verdict_from_measurement;
  std::vector<double> verdict_from_deadline;
  int verdict_missing = 0;
  double wall = 0;             // canaryd's life: start to end of measuring
  double rollout_minutes = 0;  // N x (first creation to end) / 60 s
  ProcessUsage usage;
  RequestCounts requests;  // canaryd's (the benchmark's own subtracted)
  int steps = 0;           // rollout steps canaryd executed
  // The same from canaryd's start until every rollout was at 20% (two
  // steps per rollout, few measurements yet).
  RequestCounts ramp_requests;
  int ramp_steps = 0;
  double reconciles = 0;
  double reconcile_errors = 0;
  RestartResult restart;
};

// Nearest-rank percentile (p in (0, 1]); NaN for no values.
double Percentile(std::vector<double> values, double p);

// The results table, the targets with met/missed, and API requests per
// rollout step by verb and resource, as Markdown.
std::string RenderMarkdown(const std::vector<ScaleResult>& results);

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_SCALE_REPORT_H_
