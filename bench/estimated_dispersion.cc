#include "bench/estimated_dispersion.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace smartcanary::bench {
namespace {

constexpr double kGridMultiples[] = {1.25, 1.5, 2, 3, 5, 10, 20};
constexpr double kMinIntervals = 3;
constexpr double kUnknownDispersion = 5;

bool Informative(const stats::IntervalCounts& c) {
  return c.baseline_events + c.canary_events > 0 && c.baseline_requests > 0 &&
         c.canary_requests > 0;
}

}  // namespace

void EstimatedDispersion::Add(double requests, double events) {
  if (requests <= 0) return;
  intervals_ += 1;
  requests_ += requests;
  events_ += events;
  squares_ += events * events / requests;
}

double EstimatedDispersion::Factor() const {
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

double EstimatedDispersion::FactorOr(const EstimatedDispersion& other) const {
  if (events_ <= 0 && intervals_ >= kMinIntervals && other.has_events())
    return other.Factor();
  return Factor();
}

EstimatedDispersionEProcess::EstimatedDispersionEProcess(double ratio0,
                                                         bool worse,
                                                         bool adjust)
    : ratio0_(ratio0),
      worse_(worse),
      adjust_(adjust),
      llr_(std::size(kGridMultiples), 0.0) {}

void EstimatedDispersionEProcess::Add(const stats::IntervalCounts& c) {
  if (Informative(c)) {
    // The arm whose surprise events would push this test to reject stays
    // conservative; the other may borrow (see EstimatedDispersion::FactorOr).
    const double phi_a = !adjust_ ? 1
                         : worse_ ? baseline_.FactorOr(canary_)
                                  : baseline_.Factor();
    const double phi_b = !adjust_ ? 1
                         : worse_ ? canary_.Factor()
                                  : canary_.FactorOr(baseline_);
    const double requests_a = c.baseline_requests / phi_a,
                 requests_b = c.canary_requests / phi_b;
    const double theta0 =
        stats::CanaryEventShare(ratio0_, requests_a, requests_b);
    for (size_t g = 0; g < std::size(kGridMultiples); ++g) {
      const double multiple =
          worse_ ? kGridMultiples[g] : 1 / kGridMultiples[g];
      const double theta =
          stats::CanaryEventShare(ratio0_ * multiple, requests_a, requests_b);
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

double EstimatedDispersionEProcess::LogE() const {
  return stats::LogSumExp(llr_) -
         std::log(static_cast<double>(llr_.size()));  // equal weights
}

}  // namespace smartcanary::bench
