#ifndef SMARTCANARY_BENCH_SIMULATION_H_
#define SMARTCANARY_BENCH_SIMULATION_H_

#include <random>
#include <string>
#include <vector>

#include "analysis/stats/evidence.h"

// Simulated canary rollouts with known truth, in 5 s slots: Poisson request
// arrivals split by the rollout's weight plan, per-request bad events
// (errors or slow requests), optionally arriving in same-arm clusters, under a
// shared time-of-day swing or a shared incident. A slot's counts are drawn
// whole, which is exact: every rate is constant within a slot (plans,
// incidents and fluctuation blocks change on 5 s boundaries), and a sum of
// independent Poisson counts is Poisson with the summed mean. Drawing slots
// instead of seconds makes a run five times cheaper (the null suite runs
// hundreds of thousands).
namespace smartcanary::bench {

struct WeightStep {
  double until_second;  // this share applies until here
  double canary_share;
};

// Which arms' bad events come in clusters.
enum class ClusterArms { kCanary, kBaseline, kBoth };

struct Scenario {
  std::string name;
  bool bad = false;  // ground truth: should be rolled back
  double total_rps = 200;
  std::vector<WeightStep> plan = {{300, 0.2}, {600, 0.5}};  // then promoted
  double baseline_rate = 0.001;  // bad events per request
  double canary_rate = 0.001;
  double cluster_mean = 1;  // mean same-arm cluster size (1: independent)
  // Every cluster exactly cluster_mean events instead of geometric ones: the
  // least favourable burst law for a declared bound of that size.
  bool fixed_cluster_size = false;
  ClusterArms cluster_arms = ClusterArms::kCanary;
  // A cluster's events fall uniformly over this many seconds from its start
  // (1: all in its second), so one cluster can straddle intervals.
  double cluster_spread_s = 1;
  // Each arm's event rate times its own Gamma factor of mean 1 and this
  // coefficient of variation, redrawn every block: arms that drift apart
  // for a while around equal means.
  double fluctuation_cv = 0;
  double fluctuation_block_s = 60;
  double diurnal_amplitude = 0;  // shared traffic swing, e.g. 0.8 = +-80%
  double diurnal_period_s = 600;
  double incident_start_s = -1;  // shared incident: both arms' rates x
  double incident_seconds = 0;
  double incident_multiplier = 1;
  bool canary_no_traffic = false;  // routing broken: the canary gets nothing
  double crash_period_s =
      0;  // crash loop: canary fails everything half the time
  // Latency scenarios (events = requests slower than a threshold): Flagger's
  // request-duration check fails a minute when more than this share of the
  // canary's requests is slower (0: not a latency scenario, success rate).
  double latency_check_share = 0;
  // The judge's declared burst bound (the rollout's maxBurst).
  double max_burst = stats::kDefaultMaxBurst;

  double duration() const { return plan.back().until_second; }
  double ShareAt(double second) const;
};

// Every judge looks at multiples of 5 s.
inline constexpr size_t kSlotSeconds = 5;

struct Slot {
  double baseline_requests = 0, canary_requests = 0;
  double baseline_events = 0, canary_events = 0;
  double canary_share = 0;
};

// One simulated rollout, the same stream for every judge: slot k covers
// seconds [5k, 5k + 5).
std::vector<Slot> Simulate(const Scenario& scenario, std::mt19937_64& random);

// The seconds a stream covers.
size_t Duration(const std::vector<Slot>& slots);

// Sums seconds [from, to) (multiples of 5) into one interval.
stats::IntervalCounts Sum(const std::vector<Slot>& slots, size_t from,
                          size_t to);

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_SIMULATION_H_
