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

// One-sided Mann-Whitney (normal approximation with tie correction): is
// `canary` stochastically larger than `baseline` at level `alpha`?
bool MannWhitneyGreater(const std::vector<double>& canary,
                        const std::vector<double>& baseline, double alpha) {
  const size_t n1 = canary.size(), n2 = baseline.size();
  if (n1 < 3 || n2 < 3) return false;
  std::vector<std::pair<double, int>> all;
  for (double v : canary) all.push_back({v, 0});
  for (double v : baseline) all.push_back({v, 1});
  std::sort(all.begin(), all.end());
  double rank_sum = 0, tie_term = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    const double rank = (i + j + 1) / 2.0;  // average rank, 1-based
    for (size_t k = i; k < j; ++k) {
      if (all[k].second == 0) rank_sum += rank;
    }
    const double t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    i = j;
  }
  const double n = static_cast<double>(n1 + n2);
  const double u = rank_sum - n1 * (n1 + 1) / 2.0;
  const double mean = n1 * n2 / 2.0;
  const double var = n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1)));
  if (var <= 0) return false;
  const double z = (u - mean - 0.5) / std::sqrt(var);
  // Upper alpha quantile of the standard normal for alpha = 0.01.
  return z > (alpha <= 0.01 ? 2.326 : 1.645);
}

double Median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// `Process` is stats::EProcess or the previous test; both sides built by
// `make(worse)`.
template <typename Make>
Verdict EProcessJudge(const Scenario& s, const std::vector<Second>& seconds,
                      Make make) {
  Verdict verdict;
  auto worse = make(true);
  auto not_worse = make(false);
  const double rollback = std::log(1 / (kAlpha * stats::kRollbackShare));
  const double promotion = std::log(1 / (kAlpha * stats::kPromotionShare));
  double silent = 0;  // seconds the canary served nothing while it had weight
  for (size_t t = 0; t + kIntervalSeconds <= seconds.size();
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

Verdict ArticleTemplate(const Scenario& s, const std::vector<Second>& seconds) {
  int failed = 0;
  for (size_t t = 300; t <= seconds.size(); t += 300) {
    const double rate = SuccessRate(Sum(seconds, t - 300, t), /*pooled=*/true);
    // NaN compares false: a failed measurement, as in Argo.
    if (!(rate >= 0.95) && ++failed > 3) return {static_cast<double>(t), -1};
  }
  return {-1, s.duration()};
}

Verdict FlaggerDefaults(const Scenario& s, const std::vector<Second>& seconds) {
  int failed = 0;
  for (size_t t = 60; t <= seconds.size(); t += 60) {
    const double rate = SuccessRate(Sum(seconds, t - 60, t), /*pooled=*/false);
    if (!(rate >= 0.99) && ++failed >= 5) return {static_cast<double>(t), -1};
  }
  return {-1, s.duration()};
}

Verdict KayentaMannWhitney(const Scenario& s,
                           const std::vector<Second>& seconds) {
  std::vector<double> canary, baseline;
  for (size_t t = 60; t <= seconds.size(); t += 60) {
    const stats::IntervalCounts c = Sum(seconds, t - 60, t);
    if (c.canary_requests > 0)
      canary.push_back(c.canary_events / c.canary_requests);
    if (c.baseline_requests > 0)
      baseline.push_back(c.baseline_events / c.baseline_requests);
    const double tolerance = 1.25 * Median(baseline);
    // Fail: significantly higher (98% two-sided = 1% one-sided) and beyond
    // the tolerance. 50% or more missing canary data fails too.
    const bool no_data =
        canary.size() * 2 <= baseline.size() && baseline.size() >= 2;
    if (no_data || (MannWhitneyGreater(canary, baseline, 0.01) &&
                    Median(canary) > tolerance)) {
      return {static_cast<double>(t), -1};
    }
  }
  return {-1, s.duration()};
}

Verdict SmartCanary(const Scenario& s, const std::vector<Second>& seconds) {
  return EProcessJudge(s, seconds, [&](bool worse) {
    return stats::EProcess(1 + kMargin, worse, s.max_burst);
  });
}

Verdict SmartCanaryPerEvent(const Scenario& s,
                            const std::vector<Second>& seconds) {
  return EProcessJudge(s, seconds, [](bool worse) {
    return stats::EProcess(1 + kMargin, worse, /*max_burst=*/1);
  });
}

Verdict PreviousEstimatedDispersion(const Scenario& s,
                                    const std::vector<Second>& seconds) {
  return EProcessJudge(s, seconds, [](bool worse) {
    return EstimatedDispersionEProcess(1 + kMargin, worse, /*adjust=*/true);
  });
}

const std::vector<Judge>& AllJudges() {
  static const std::vector<Judge> judges = {
      {"article template (pooled, 5m, failureLimit 3)", ArticleTemplate},
      {"Flagger defaults (canary >= 99%, 1m, 5 checks)", FlaggerDefaults},
      {"Kayenta Mann-Whitney (98%, tolerance 0.25)", KayentaMannWhitney},
      {"Smart Canary (burst-bounded e-process, 5 s)", SmartCanary},
      {"previous: estimated dispersion (invalid)", PreviousEstimatedDispersion},
      {"per-event grid mixture (no dependence remedy)", SmartCanaryPerEvent},
  };
  return judges;
}

}  // namespace smartcanary::bench
