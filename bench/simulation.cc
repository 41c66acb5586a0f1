#include "bench/simulation.h"

#include <cmath>

namespace smartcanary::bench {
namespace {

constexpr double kPi = 3.14159265358979323846;

double Poisson(double mean, std::mt19937_64& random) {
  if (mean <= 0) return 0;
  return static_cast<double>(std::poisson_distribution<int64_t>(mean)(random));
}

// Events for `requests` at `rate`, in clusters of geometric size with the
// given mean (1: independent events).
double Events(double requests, double rate, double cluster_mean,
              std::mt19937_64& random) {
  if (cluster_mean <= 1) return Poisson(requests * rate, random);
  const double clusters = Poisson(requests * rate / cluster_mean, random);
  double events = 0;
  std::geometric_distribution<int64_t> extra(1 / cluster_mean);
  for (int i = 0; i < clusters; ++i)
    events += 1 + static_cast<double>(extra(random));
  return std::min(events, requests);
}

}  // namespace

double Scenario::ShareAt(double second) const {
  for (const WeightStep& step : plan) {
    if (second < step.until_second) return step.canary_share;
  }
  return plan.back().canary_share;
}

std::vector<Second> Simulate(const Scenario& s, std::mt19937_64& random) {
  std::vector<Second> out(static_cast<size_t>(s.duration()));
  const double phase =
      std::uniform_real_distribution<double>(0, 2 * kPi)(random);
  for (size_t t = 0; t < out.size(); ++t) {
    Second& second = out[t];
    const double swing =
        1 + s.diurnal_amplitude *
                std::sin(phase + 2 * kPi * t / s.diurnal_period_s);
    const bool incident = s.incident_start_s >= 0 && t >= s.incident_start_s &&
                          t < s.incident_start_s + s.incident_seconds;
    const double shared = incident ? s.incident_multiplier : 1;
    second.canary_share = s.ShareAt(static_cast<double>(t));
    const double share = s.canary_no_traffic ? 0 : second.canary_share;
    second.baseline_requests =
        Poisson(s.total_rps * swing * (1 - share), random);
    second.canary_requests = Poisson(s.total_rps * swing * share, random);
    double canary_rate = s.canary_rate;
    if (s.crash_period_s > 0 &&
        std::fmod(static_cast<double>(t), s.crash_period_s) >=
            s.crash_period_s / 2) {
      canary_rate = 1;
    }
    second.baseline_events = Events(
        second.baseline_requests, std::min(1.0, s.baseline_rate * shared),
        s.cluster_baseline ? s.cluster_mean : 1, random);
    second.canary_events =
        Events(second.canary_requests, std::min(1.0, canary_rate * shared),
               s.cluster_baseline ? 1 : s.cluster_mean, random);
  }
  return out;
}

stats::IntervalCounts Sum(const std::vector<Second>& seconds, size_t from,
                          size_t to) {
  stats::IntervalCounts c;
  double share = 0;
  for (size_t t = from; t < to && t < seconds.size(); ++t) {
    c.baseline_requests += seconds[t].baseline_requests;
    c.canary_requests += seconds[t].canary_requests;
    c.baseline_events += seconds[t].baseline_events;
    c.canary_events += seconds[t].canary_events;
    share += seconds[t].canary_share;
  }
  c.configured_canary_share =
      to > from ? share / static_cast<double>(to - from) : 0;
  return c;
}

}  // namespace smartcanary::bench
