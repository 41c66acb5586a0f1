#include "bench/simulation.h"

#include <cmath>

namespace smartcanary::bench {
namespace {

constexpr double kPi = 3.14159265358979323846;

double Poisson(double mean, std::mt19937_64& random) {
  if (mean <= 0) return 0;
  return static_cast<double>(std::poisson_distribution<int64_t>(mean)(random));
}

// Bad events caused by slot k's `requests` at `rate`, in clusters of
// geometric size with the given mean (1: independent events); a cluster
// starts at a uniform second of the slot and its events fall uniformly over
// `spread` seconds from there.
void AddEvents(std::vector<Slot>& out, size_t k, double Slot::*arm,
               double requests, double rate, double cluster_mean, bool fixed,
               double spread, std::mt19937_64& random) {
  if (cluster_mean <= 1) {
    out[k].*arm += Poisson(requests * rate, random);
    return;
  }
  const double clusters = Poisson(requests * rate / cluster_mean, random);
  std::geometric_distribution<int64_t> extra(1 / cluster_mean);
  for (int i = 0; i < clusters; ++i) {
    const int64_t size = fixed ? static_cast<int64_t>(std::round(cluster_mean))
                               : 1 + extra(random);
    if (spread <= 1) {
      out[k].*arm += static_cast<double>(size);
      continue;
    }
    const size_t start =
        k * kSlotSeconds +
        std::uniform_int_distribution<size_t>(0, kSlotSeconds - 1)(random);
    std::uniform_real_distribution<double> offset(0, spread);
    for (int64_t e = 0; e < size; ++e) {
      const size_t at =
          (start + static_cast<size_t>(offset(random))) / kSlotSeconds;
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

std::vector<Slot> Simulate(const Scenario& s, std::mt19937_64& random) {
  const size_t slots = static_cast<size_t>(s.duration()) / kSlotSeconds;
  std::vector<Slot> out(slots);
  const double phase =
      std::uniform_real_distribution<double>(0, 2 * kPi)(random);
  const bool canary_clusters = s.cluster_arms != ClusterArms::kBaseline;
  const bool baseline_clusters = s.cluster_arms != ClusterArms::kCanary;
  // Gamma(k, 1/k) has mean 1 and coefficient of variation 1/sqrt(k).
  const double shape =
      s.fluctuation_cv > 0 ? 1 / (s.fluctuation_cv * s.fluctuation_cv) : 0;
  double canary_factor = 1, baseline_factor = 1;
  for (size_t k = 0; k < slots; ++k) {
    const double t = static_cast<double>(k * kSlotSeconds);
    Slot& slot = out[k];
    if (shape > 0 && std::fmod(t, s.fluctuation_block_s) == 0) {
      std::gamma_distribution<double> factor(shape, 1 / shape);
      canary_factor = factor(random);
      baseline_factor = factor(random);
    }
    // The swing's mean traffic over the slot's seconds.
    double swing = 0;
    for (size_t i = 0; i < kSlotSeconds; ++i) {
      swing += 1 + s.diurnal_amplitude *
                       std::sin(phase + 2 * kPi * (t + static_cast<double>(i)) /
                                            s.diurnal_period_s);
    }
    const bool incident = s.incident_start_s >= 0 && t >= s.incident_start_s &&
                          t < s.incident_start_s + s.incident_seconds;
    const double shared = incident ? s.incident_multiplier : 1;
    slot.canary_share = s.ShareAt(t);
    const double share = s.canary_no_traffic ? 0 : slot.canary_share;
    slot.baseline_requests = Poisson(s.total_rps * swing * (1 - share), random);
    slot.canary_requests = Poisson(s.total_rps * swing * share, random);
    double canary_rate = s.canary_rate;
    if (s.crash_period_s > 0 &&
        std::fmod(t, s.crash_period_s) >= s.crash_period_s / 2) {
      canary_rate = 1;
    }
    AddEvents(out, k, &Slot::baseline_events, slot.baseline_requests,
              std::min(1.0, s.baseline_rate * shared * baseline_factor),
              baseline_clusters ? s.cluster_mean : 1, s.fixed_cluster_size,
              s.cluster_spread_s, random);
    AddEvents(out, k, &Slot::canary_events, slot.canary_requests,
              std::min(1.0, canary_rate * shared * canary_factor),
              canary_clusters ? s.cluster_mean : 1, s.fixed_cluster_size,
              s.cluster_spread_s, random);
  }
  // A slot cannot fail more requests than it served.
  for (Slot& slot : out) {
    slot.baseline_events =
        std::min(slot.baseline_events, slot.baseline_requests);
    slot.canary_events = std::min(slot.canary_events, slot.canary_requests);
  }
  return out;
}

size_t Duration(const std::vector<Slot>& slots) {
  return slots.size() * kSlotSeconds;
}

stats::IntervalCounts Sum(const std::vector<Slot>& slots, size_t from,
                          size_t to) {
  stats::IntervalCounts c;
  double share = 0;
  const size_t first = from / kSlotSeconds,
               last = std::min(to / kSlotSeconds, slots.size());
  for (size_t k = first; k < last; ++k) {
    c.baseline_requests += slots[k].baseline_requests;
    c.canary_requests += slots[k].canary_requests;
    c.baseline_events += slots[k].baseline_events;
    c.canary_events += slots[k].canary_events;
    share += slots[k].canary_share;
  }
  c.configured_canary_share =
      last > first ? share / static_cast<double>(last - first) : 0;
  return c;
}

}  // namespace smartcanary::bench
