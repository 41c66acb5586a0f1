#include "bench/simulation.h"

#include <cmath>

namespace smartcanary::bench {
namespace {

constexpr double kPi = 3.14159265358979323846;

double Poisson(double mean, std::mt19937_64& random) {
  if (mean <= 0) return 0;
  return static_cast<double>(std::poisson_distribution<int64_t>(mean)(random));
}

// Bad events caused by second t's `requests` at `rate`, in clusters of
// geometric size with the given mean (1: independent events), each cluster's
// events falling uniformly over `spread` seconds from t.
void AddEvents(std::vector<Second>& out, size_t t, double Second::*arm,
               double requests, double rate, double cluster_mean, double spread,
               std::mt19937_64& random) {
  if (cluster_mean <= 1) {
    out[t].*arm += Poisson(requests * rate, random);
    return;
  }
  const double clusters = Poisson(requests * rate / cluster_mean, random);
  std::geometric_distribution<int64_t> extra(1 / cluster_mean);
  std::uniform_real_distribution<double> offset(0, spread);
  for (int i = 0; i < clusters; ++i) {
    const int64_t size = 1 + extra(random);
    if (spread <= 1) {
      out[t].*arm += static_cast<double>(size);
      continue;
    }
    for (int64_t e = 0; e < size; ++e) {
      const size_t at = t + static_cast<size_t>(offset(random));
      if (at < out.size()) out[at].*arm += 1;
    }
  }
}

}  // namespace

double Scenario::ShareAt(double second) const {
  for (const WeightStep& step : plan) {
    if (second < step.until_second) return step.canary_share;
  }
  return plan.back().canary_share;
}

std::vector<Second> Simulate(const Scenario& s, std::mt19937_64& random) {
  const size_t duration = static_cast<size_t>(s.duration());
  std::vector<Second> out(duration);
  const double phase =
      std::uniform_real_distribution<double>(0, 2 * kPi)(random);
  const bool canary_clusters = s.cluster_arms != ClusterArms::kBaseline;
  const bool baseline_clusters = s.cluster_arms != ClusterArms::kCanary;
  // Gamma(k, 1/k) has mean 1 and coefficient of variation 1/sqrt(k).
  const double shape =
      s.fluctuation_cv > 0 ? 1 / (s.fluctuation_cv * s.fluctuation_cv) : 0;
  double canary_factor = 1, baseline_factor = 1;
  for (size_t t = 0; t < duration; ++t) {
    Second& second = out[t];
    if (shape > 0 &&
        std::fmod(static_cast<double>(t), s.fluctuation_block_s) == 0) {
      std::gamma_distribution<double> factor(shape, 1 / shape);
      canary_factor = factor(random);
      baseline_factor = factor(random);
    }
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
    AddEvents(out, t, &Second::baseline_events, second.baseline_requests,
              std::min(1.0, s.baseline_rate * shared * baseline_factor),
              baseline_clusters ? s.cluster_mean : 1, s.cluster_spread_s,
              random);
    AddEvents(out, t, &Second::canary_events, second.canary_requests,
              std::min(1.0, canary_rate * shared * canary_factor),
              canary_clusters ? s.cluster_mean : 1, s.cluster_spread_s, random);
  }
  // A second cannot fail more requests than it served.
  for (Second& second : out) {
    second.baseline_events =
        std::min(second.baseline_events, second.baseline_requests);
    second.canary_events =
        std::min(second.canary_events, second.canary_requests);
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
