#include "bench/judges.h"

#include <algorithm>
#include <cmath>

#include "bench/estimated_dispersion.h"

namespace smartcanary::bench {
namespace {

double SuccessRate(const stats::IntervalCounts& c, bool pooled) {
  const double requests =
      c.canary_requests + (pooled ? c.baseline_requests : 0);
  const double events = c.canary_events + (pooled ? c.baseline_events : 0);
  return requests > 0 ? 1 - events / requests : std::nan("");
}

// Kayenta's MannWhitneyClassifier (kayenta-judge, classifiers/metric): the
// Hodges-Lehmann estimate of the shift canary - baseline and its
// confidence interval from the Mann-Whitney statistic; "High" when the
// interval's lower end exceeds tolerance x |estimate| (its calculateBounds).
// The interval is the normal-approximation one on the sorted pairwise
// differences (z = 2.326 for the 98% level the benchmark configures).
bool KayentaHigh(const std::vector<double>& canary,
                 const std::vector<double>& baseline, double tolerance) {
  const size_t n1 = canary.size(), n2 = baseline.size();
  if (n1 < 3 || n2 < 3) return false;
  std::vector<double> differences;
  differences.reserve(n1 * n2);
  for (double c : canary) {
    for (double b : baseline) differences.push_back(c - b);
  }
  std::sort(differences.begin(), differences.end());
  const double pairs = static_cast<double>(differences.size());
  const double k =
      std::floor(pairs / 2 - 2.326 * std::sqrt(pairs * (n1 + n2 + 1) / 12.0));
  if (k < 0) return false;  // too few values for a 98% interval
  const double lower = differences[static_cast<size_t>(k)];
  const double estimate = (differences[(differences.size() - 1) / 2] +
                           differences[differences.size() / 2]) /
                          2;
  return lower > tolerance * std::abs(estimate);
}

// `Process` is stats::EProcess or the previous test; both sides built by
// `make(worse)`.
template <typename Make>
Verdict EProcessJudge(const Scenario& s, const std::vector<Slot>& seconds,
                      Make make) {
  Verdict verdict;
  auto worse = make(true);
  auto not_worse = make(false);
  const double rollback = std::log(1 / (kAlpha * stats::kRollbackShare));
  const double promotion = std::log(1 / (kAlpha * stats::kPromotionShare));
  double silent = 0;  // seconds the canary served nothing while it had weight
  for (size_t t = 0; t + kIntervalSeconds <= Duration(seconds);
       t += kIntervalSeconds) {
    const stats::IntervalCounts c = Sum(seconds, t, t + kIntervalSeconds);
    const double end = static_cast<double>(t + kIntervalSeconds);
    // Liveness: weight but no requests for 30 s fails the canary.
    silent = c.canary_requests == 0 && c.configured_canary_share > 0
                 ? silent + kIntervalSeconds
                 : 0;
    if (silent >= 30) return {end, -1};
    worse.Add(c);
    not_worse.Add(c);
    if (worse.LogE() >= rollback) return {end, -1};
    if (verdict.promote_second < 0 && not_worse.LogE() >= promotion)
      verdict.promote_second = end;
  }
  if (verdict.promote_second < 0) verdict.promote_second = s.duration();
  return verdict;
}

}  // namespace

Verdict ArticleTemplate(const Scenario& s, const std::vector<Slot>& seconds) {
  int failed = 0;
  for (size_t t = 300; t <= Duration(seconds); t += 300) {
    const double rate = SuccessRate(Sum(seconds, t - 300, t), /*pooled=*/true);
    // NaN compares false: a failed measurement, as in Argo.
    if (!(rate >= 0.95) && ++failed > 3) return {static_cast<double>(t), -1};
  }
  return {-1, s.duration()};
}

Verdict FlaggerDefaults(const Scenario& s, const std::vector<Slot>& seconds) {
  int failed = 0;
  for (size_t t = 60; t <= Duration(seconds); t += 60) {
    const double rate = SuccessRate(Sum(seconds, t - 60, t), /*pooled=*/false);
    // Latency scenarios: the request-duration check (a latency percentile
    // over 1m under its threshold) instead of success rate; events are the
    // requests slower than the threshold, so the check is their share.
    const double limit =
        s.latency_check_share > 0 ? 1 - s.latency_check_share : 0.99;
    if (!(rate >= limit) && ++failed >= 5) return {static_cast<double>(t), -1};
  }
  return {-1, s.duration()};
}

// Per-minute event rates since the canary started, judged at each second in
// `at` (60 s multiples); 50% or more missing canary data fails too.
template <typename When>
Verdict Kayenta(const Scenario& s, const std::vector<Slot>& seconds,
                When judged_at) {
  std::vector<double> canary, baseline;
  for (size_t t = 60; t <= Duration(seconds); t += 60) {
    const stats::IntervalCounts c = Sum(seconds, t - 60, t);
    if (c.canary_requests > 0)
      canary.push_back(c.canary_events / c.canary_requests);
    if (c.baseline_requests > 0)
      baseline.push_back(c.baseline_events / c.baseline_requests);
    if (!judged_at(static_cast<double>(t))) continue;
    const bool no_data =
        canary.size() * 2 <= baseline.size() && baseline.size() >= 2;
    if (no_data || KayentaHigh(canary, baseline, 0.25))
      return {static_cast<double>(t), -1};
  }
  return {-1, s.duration()};
}

Verdict KayentaMannWhitney(const Scenario& s,
                           const std::vector<Slot>& seconds) {
  return Kayenta(s, seconds, [](double) { return true; });
}

Verdict KayentaEndOfStep(const Scenario& s, const std::vector<Slot>& seconds) {
  return Kayenta(s, seconds, [&](double t) {
    for (const WeightStep& step : s.plan) {
      if (t == step.until_second) return true;
    }
    return false;
  });
}

Verdict SmartCanary(const Scenario& s, const std::vector<Slot>& seconds) {
  return EProcessJudge(s, seconds, [&](bool worse) {
    return stats::EProcess(1 + kMargin, worse, s.max_burst);
  });
}

Verdict SmartCanaryPerEvent(const Scenario& s,
                            const std::vector<Slot>& seconds) {
  return EProcessJudge(s, seconds, [](bool worse) {
    return stats::EProcess(1 + kMargin, worse, /*max_burst=*/1);
  });
}

Verdict PreviousEstimatedDispersion(const Scenario& s,
                                    const std::vector<Slot>& seconds) {
  return EProcessJudge(s, seconds, [](bool worse) {
    return EstimatedDispersionEProcess(1 + kMargin, worse, /*adjust=*/true);
  });
}

const std::vector<Judge>& AllJudges() {
  static const std::vector<Judge> judges = {
      {"article template (pooled, 5m, failureLimit 3)", ArticleTemplate},
      {"Flagger defaults (canary >= 99%, 1m, 5 checks)", FlaggerDefaults},
      {"Kayenta Mann-Whitney (98%, tolerance 0.25, every minute)",
       KayentaMannWhitney},
      {"Kayenta Mann-Whitney (98%, tolerance 0.25, end of step)",
       KayentaEndOfStep},
      {"Smart Canary (burst-bounded e-process, 5 s)", SmartCanary},
      {"previous: estimated dispersion (invalid)", PreviousEstimatedDispersion},
      {"per-event grid mixture (no dependence remedy)", SmartCanaryPerEvent},
  };
  return judges;
}

}  // namespace smartcanary::bench
