#include "analysis/stats/evidence.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace smartcanary::stats {
namespace {

// Bet sizes for the routing check, as fractions of the largest bet that
// keeps wealth >= 0; the mixture costs log(#sizes) nats.
constexpr double kBetFractions[] = {0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9};
// Alternatives for the grid mixture, as multiples of 1+margin (STATISTICS.md).
constexpr double kGridMultiples[] = {1.25, 1.5, 2, 3, 5, 10, 20};
constexpr double kMinIntervals = 3;
constexpr double kUnknownDispersion = 5;

bool Informative(const IntervalCounts& c) {
  return c.baseline_events + c.canary_events > 0 && c.baseline_requests > 0 &&
         c.canary_requests > 0;
}

}  // namespace

double CanaryEventShare(double ratio, double baseline_requests,
                        double canary_requests) {
  return canary_requests * ratio /
         (baseline_requests + canary_requests * ratio);
}

double LogSumExp(std::span<const double> values) {
  double top = -std::numeric_limits<double>::infinity();
  for (double v : values) top = std::max(top, v);
  if (!std::isfinite(top)) return top;
  double sum = 0;
  for (double v : values) sum += std::exp(v - top);
  return top + std::log(sum);
}

double BernoulliKl(double p, double q) {
  auto term = [](double a, double b) {
    return a <= 0 ? 0.0 : a * std::log(a / b);
  };
  return term(p, q) + term(1 - p, 1 - q);
}

void Dispersion::Add(double requests, double events) {
  if (requests <= 0) return;
  intervals_ += 1;
  requests_ += requests;
  events_ += events;
  squares_ += events * events / requests;
}

double Dispersion::Factor() const {
  // Too few intervals or no event yet: nothing says how clustered this
  // arm's events are, so assume clusters of a few events. (Borrowing
  // the other arm's factor instead was measured: it let a canary's first
  // cluster weigh as independent events.)
  if (intervals_ < kMinIntervals || events_ <= 0) return kUnknownDispersion;
  // Pearson X^2 = sum (n - N p)^2 / (N p) with p = events / requests.
  const double pearson = squares_ * requests_ / events_ - events_;
  const double estimate = pearson / (intervals_ - 1);
  // One-sided 95% upper value: the estimate's relative standard error is
  // about sqrt(2 / (J - 1)).
  return std::max(1.0,
                  estimate * (1 + 1.645 * std::sqrt(2 / (intervals_ - 1))));
}

double Dispersion::FactorOr(const Dispersion& other) const {
  if (events_ <= 0 && intervals_ >= kMinIntervals && other.has_events())
    return other.Factor();
  return Factor();
}

EProcess::EProcess(double ratio0, bool worse, bool adjust_dispersion)
    : ratio0_(ratio0),
      worse_(worse),
      adjust_(adjust_dispersion),
      llr_(std::size(kGridMultiples), 0.0) {}

void EProcess::Add(const IntervalCounts& c) {
  if (Informative(c)) {
    // The arm whose surprise events would push this test to reject stays
    // conservative; the other may borrow (see Dispersion::FactorOr).
    const double phi_a = !adjust_ ? 1
                         : worse_ ? baseline_.FactorOr(canary_)
                                  : baseline_.Factor();
    const double phi_b = !adjust_ ? 1
                         : worse_ ? canary_.Factor()
                                  : canary_.FactorOr(baseline_);
    const double requests_a = c.baseline_requests / phi_a,
                 requests_b = c.canary_requests / phi_b;
    const double theta0 = CanaryEventShare(ratio0_, requests_a, requests_b);
    for (size_t g = 0; g < std::size(kGridMultiples); ++g) {
      const double multiple =
          worse_ ? kGridMultiples[g] : 1 / kGridMultiples[g];
      const double theta =
          CanaryEventShare(ratio0_ * multiple, requests_a, requests_b);
      llr_[g] +=
          c.canary_events / phi_b * std::log(theta / theta0) +
          c.baseline_events / phi_a * std::log((1 - theta) / (1 - theta0));
    }
  }
  // The factors for the next interval learn from this one: each interval's
  // likelihood ratio uses only what came before it.
  baseline_.Add(c.baseline_requests, c.baseline_events);
  canary_.Add(c.canary_requests, c.canary_events);
}

double EProcess::LogE() const {
  return LogSumExp(llr_) -
         std::log(static_cast<double>(llr_.size()));  // equal weights
}

double LogEProcess(std::span<const IntervalCounts> intervals, double ratio0,
                   bool worse, bool adjust_dispersion) {
  EProcess process(ratio0, worse, adjust_dispersion);
  for (const IntervalCounts& c : intervals) process.Add(c);
  return process.LogE();
}

Evidence Evaluate(std::span<const IntervalCounts> intervals, double margin,
                  double alpha) {
  Evidence e;
  for (const IntervalCounts& c : intervals) {
    e.baseline_requests += c.baseline_requests;
    e.canary_requests += c.canary_requests;
    e.baseline_events += c.baseline_events;
    e.canary_events += c.canary_events;
    if (Informative(c)) ++e.informative_intervals;
  }
  e.rate_ratio = (e.canary_events / std::max(e.canary_requests, 1.0)) /
                 (e.baseline_events / std::max(e.baseline_requests, 1.0));
  if (e.baseline_events + e.canary_events == 0) e.rate_ratio = std::nan("");
  const double threshold = std::log(2 / alpha);
  e.log_e_worse = LogEProcess(intervals, 1 + margin, true);
  e.log_e_not_worse = LogEProcess(intervals, 1 + margin, false);
  Dispersion baseline, canary;
  for (const IntervalCounts& c : intervals) {
    baseline.Add(c.baseline_requests, c.baseline_events);
    canary.Add(c.canary_requests, c.canary_events);
  }
  e.baseline_dispersion = baseline.Factor();
  e.canary_dispersion = canary.Factor();
  e.worse = e.log_e_worse >= threshold;
  e.not_worse = e.log_e_not_worse >= threshold;
  // The interval inverts the same tests: E_worse(r0) falls and
  // E_not_worse(r0) rises with r0, so each endpoint is a bisection in log r0.
  auto bisect = [&](bool worse) {
    double lo = std::log(1e-4), hi = std::log(1e4);
    auto rejects = [&](double log_r0) {
      return LogEProcess(intervals, std::exp(log_r0), worse) >= threshold;
    };
    // worse: find the least r0 not rejected; !worse: the greatest.
    if (worse ? !rejects(lo) : !rejects(hi)) return std::exp(worse ? lo : hi);
    for (int i = 0; i < 60; ++i) {
      const double mid = (lo + hi) / 2;
      if (rejects(mid) == worse) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return std::exp((lo + hi) / 2);
  };
  e.ratio_low = bisect(true);
  e.ratio_high = bisect(false);
  return e;
}

bool RoutingMismatch(std::span<const IntervalCounts> intervals,
                     double tolerance, double alpha, double* observed_share,
                     double* configured_share) {
  // The same betting test on requests instead of events: X = the canary's
  // share of the interval's requests, against the configured share +-
  // tolerance, one bet on each side.
  double log_above[std::size(kBetFractions)] = {},
         log_below[std::size(kBetFractions)] = {};
  double canary = 0, total = 0, configured = 0;
  for (const IntervalCounts& c : intervals) {
    const double n = c.baseline_requests + c.canary_requests;
    if (n <= 0) continue;
    canary += c.canary_requests;
    total += n;
    configured += c.configured_canary_share * n;
    const double x = c.canary_requests / n;
    const double high = c.configured_canary_share + tolerance;
    const double low = c.configured_canary_share - tolerance;
    for (size_t g = 0; g < std::size(kBetFractions); ++g) {
      if (high < 1)
        log_above[g] += std::log1p(kBetFractions[g] * (x - high) / high);
      if (low > 0)
        log_below[g] += std::log1p(kBetFractions[g] * (low - x) / (1 - low));
    }
  }
  if (observed_share != nullptr)
    *observed_share = total > 0 ? canary / total : 0;
  if (configured_share != nullptr)
    *configured_share = total > 0 ? configured / total : 0;
  const double threshold = std::log(2 / alpha);
  const double cost = std::log(static_cast<double>(std::size(kBetFractions)));
  return LogSumExp(log_above) - cost >= threshold ||
         LogSumExp(log_below) - cost >= threshold;
}

double MinimumDetectionSeconds(double baseline_rps, double canary_rps,
                               double baseline_rate, double regressed_rate,
                               double alpha, double beta) {
  // Events as Poisson streams with an unknown common baseline rate q.
  const double pooled =
      (baseline_rps * baseline_rate + canary_rps * regressed_rate) /
      (baseline_rps + canary_rps);
  auto term = [&](double rps, double rate) {
    return rate <= 0 ? 0.0 : rps * rate * std::log(rate / pooled);
  };
  const double information =
      term(baseline_rps, baseline_rate) + term(canary_rps, regressed_rate);
  if (information <= 0) return std::numeric_limits<double>::infinity();
  return BernoulliKl(1 - beta, alpha) / information;
}

}  // namespace smartcanary::stats
