#include "analysis/stats/evidence.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace smartcanary::stats {
namespace {

// Bet sizes for the routing check, as fractions of the largest bet that
// keeps wealth >= 0; the mixture costs log(#sizes) nats.
constexpr double kBetFractions[] = {0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9};
// Alternatives for the grid mixture, as multiples of 1+margin
// (docs/STATISTICS.md).
constexpr double kGridMultiples[] = {1.25, 1.5, 2, 3, 5, 10, 20};

// The linear component for grid share `theta` (see EProcess::Add): the
// rising arm's factor 1 + slope x and the falling arm's exp(log_falling y).
struct LinearBet {
  double slope;
  double log_falling;
};

// rising0/rising1: the rising arm's share of events under the null and the
// alternative (rising1 > rising0). Maximizes the expected log-growth per
// event, rising1 log(1 + a) + (1 - rising1) b, under the constraint
// rising0 a + (1 - rising0)(e^(bB) - 1)/B = 0 that makes the factor's
// expectation at most 1; the Lagrange conditions are linear in E = e^(bB).
LinearBet BestLinearBet(double rising0, double rising1, double max_burst) {
  const double e = (1 - rising1) * (rising0 + (1 - rising0) / max_burst) /
                   ((1 - rising0) * (rising1 + (1 - rising1) / max_burst));
  return {(1 - rising0) * (1 - e) / (max_burst * rising0),
          std::log(e) / max_burst};
}

bool Informative(const IntervalCounts& c) {
  return c.baseline_events + c.canary_events > 0 && c.baseline_requests > 0 &&
         c.canary_requests > 0;
}

}  // namespace

double LinearBetGrowth(double share0, double share1, double max_burst,
                       double rising_mean, double falling_mean) {
  const LinearBet bet = BestLinearBet(share0, share1, max_burst);
  double rising = 0;
  if (rising_mean > 0) {
    // Poisson terms to far past the mean; the rest weigh < 1e-30.
    const int last =
        static_cast<int>(rising_mean + 12 * std::sqrt(rising_mean) + 30);
    for (int k = 1; k <= last; ++k) {
      rising += std::exp(k * std::log(rising_mean) - rising_mean -
                         std::lgamma(k + 1.0)) *
                std::log1p(bet.slope * k);
    }
  }
  return rising + bet.log_falling * falling_mean;
}

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

EProcess::EProcess(double ratio0, bool worse, double max_burst)
    : ratio0_(ratio0),
      worse_(worse),
      max_burst_(std::max(1.0, max_burst)),
      llr_(std::size(kGridMultiples), 0.0),
      switched_llr_(max_burst_ > 1 ? std::size(kGridMultiples) : 0, 0.0) {}

void EProcess::Add(const IntervalCounts& c) {
  // Which factor the switched process takes is decided before the
  // interval's events are seen, from the rising arm's (the canary's for
  // `worse`) earlier rate and this interval's requests, so each factor's
  // bound on its expectation still holds. With no history yet, the chord
  // factor: a busy first interval is where a large regression shows first.
  const double rising_requests =
      worse_ ? c.canary_requests : c.baseline_requests;
  const bool linear =
      max_burst_ > 1 && rising_requests_seen_ > 0 &&
      rising_requests * rising_events_seen_ / rising_requests_seen_ <=
          kLinearMaxExpectedEvents;
  rising_requests_seen_ += rising_requests;
  rising_events_seen_ += worse_ ? c.canary_events : c.baseline_events;
  if (!Informative(c)) return;
  // Each grid component multiplies its wealth by
  //   (theta/theta0)^(X/B) * ((1-theta)/(1-theta0))^(Y/B).
  // For one burst of s <= B events, t -> exp(t s/B) lies under its chord on
  // [0, 1], so E exp(t S/B) - 1 <= (E S/B)(e^t - 1) for every t: the scaled
  // counts are sub-Poisson. With canary mean <= theta0 T and baseline mean
  // (1-theta0) T that makes the expectation <= exp(T/B (theta - theta0 +
  // theta0 - theta)) = 1 (docs/STATISTICS.md, "Validity").
  const double theta0 =
      CanaryEventShare(ratio0_, c.baseline_requests, c.canary_requests);
  for (size_t g = 0; g < std::size(kGridMultiples); ++g) {
    const double multiple = worse_ ? kGridMultiples[g] : 1 / kGridMultiples[g];
    const double theta = CanaryEventShare(
        ratio0_ * multiple, c.baseline_requests, c.canary_requests);
    const double chord =
        (c.canary_events * std::log(theta / theta0) +
         c.baseline_events * std::log((1 - theta) / (1 - theta0))) /
        max_burst_;
    llr_[g] += chord;
    if (switched_llr_.empty()) continue;
    if (!linear) {
      switched_llr_[g] += chord;
      continue;
    }
    // The arm that rises under the alternative (the canary for `worse`)
    // gets the factor 1 + a x instead: its expectation is 1 + a E x <=
    // exp(a E x) for any law of x, bursts of any size included, so only the
    // falling arm pays the chord. With the rising arm's mean rising0 T (at
    // most, for `worse`; at least for the falling arm otherwise) the product
    // is again at most exp(T (rising0 a + (1 - rising0)(e^(bB) - 1)/B)) = 1.
    const double rising_x = worse_ ? c.canary_events : c.baseline_events;
    const double falling_y = worse_ ? c.baseline_events : c.canary_events;
    const LinearBet bet =
        worse_ ? BestLinearBet(theta0, theta, max_burst_)
               : BestLinearBet(1 - theta0, 1 - theta, max_burst_);
    switched_llr_[g] +=
        std::log1p(bet.slope * rising_x) + bet.log_falling * falling_y;
  }
}

double EProcess::LogE() const {
  // Equal weights on the grid; for max_burst > 1, half on the chord process
  // and half on the switched one. While no interval has been linear the
  // two are equal, and the halves cost nothing.
  const double size = static_cast<double>(llr_.size());
  const double chord = LogSumExp(llr_) - std::log(size);
  if (switched_llr_.empty()) return chord;
  const double parts[] = {chord, LogSumExp(switched_llr_) - std::log(size)};
  return LogSumExp(parts) - std::log(2.0);
}

double LogEProcess(std::span<const IntervalCounts> intervals, double ratio0,
                   bool worse, double max_burst) {
  EProcess process(ratio0, worse, max_burst);
  for (const IntervalCounts& c : intervals) process.Add(c);
  return process.LogE();
}

double ObservedDispersion(std::span<const IntervalCounts> intervals,
                          bool canary) {
  double intervals_seen = 0, requests = 0, events = 0, squares = 0;
  for (const IntervalCounts& c : intervals) {
    const double n = canary ? c.canary_requests : c.baseline_requests;
    const double x = canary ? c.canary_events : c.baseline_events;
    if (n <= 0) continue;
    intervals_seen += 1;
    requests += n;
    events += x;
    squares += x * x / n;
  }
  if (intervals_seen < 2 || events <= 0) return std::nan("");
  // Pearson X^2 = sum (x - n p)^2 / (n p) with p = events / requests.
  return (squares * requests / events - events) / (intervals_seen - 1);
}

Evidence Evaluate(std::span<const IntervalCounts> intervals, double margin,
                  double alpha, double max_burst) {
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
  const double rollback = std::log(1 / (alpha * kRollbackShare));
  const double promotion = std::log(1 / (alpha * kPromotionShare));
  e.max_burst = std::max(1.0, max_burst);
  e.log_e_worse = LogEProcess(intervals, 1 + margin, true, e.max_burst);
  e.log_e_not_worse = LogEProcess(intervals, 1 + margin, false, e.max_burst);
  e.baseline_dispersion = ObservedDispersion(intervals, false);
  e.canary_dispersion = ObservedDispersion(intervals, true);
  e.worse = e.log_e_worse >= rollback;
  e.not_worse = e.log_e_not_worse >= promotion;
  // The interval inverts the same tests: E_worse(r0) falls and
  // E_not_worse(r0) rises with r0, so each endpoint is a bisection in log r0.
  auto bisect = [&](bool worse) {
    double lo = std::log(1e-4), hi = std::log(1e4);
    auto rejects = [&](double log_r0) {
      return LogEProcess(intervals, std::exp(log_r0), worse, e.max_burst) >=
             (worse ? rollback : promotion);
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
                               double alpha, double beta, double null_ratio) {
  // Events as Poisson streams with an unknown baseline rate q; the nearest
  // null law has the canary at null_ratio q, with q minimizing the
  // divergence: the rate that keeps the expected event count.
  if (!(regressed_rate > null_ratio * baseline_rate))
    return std::numeric_limits<double>::infinity();
  const double q =
      (baseline_rps * baseline_rate + canary_rps * regressed_rate) /
      (baseline_rps + canary_rps * null_ratio);
  auto term = [](double rps, double rate, double null_rate) {
    return rate <= 0 ? 0.0 : rps * rate * std::log(rate / null_rate);
  };
  const double information = term(baseline_rps, baseline_rate, q) +
                             term(canary_rps, regressed_rate, null_ratio * q);
  if (information <= 0) return std::numeric_limits<double>::infinity();
  return BernoulliKl(1 - beta, alpha) / information;
}

}  // namespace smartcanary::stats
