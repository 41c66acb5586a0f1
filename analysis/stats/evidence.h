#ifndef SMARTCANARY_ANALYSIS_STATS_EVIDENCE_H_
#define SMARTCANARY_ANALYSIS_STATS_EVIDENCE_H_

#include <span>
#include <vector>

// Anytime-valid comparison of canary against baseline on event counts
// (errors, 5xx, gRPC non-OK, requests slower than an objective). Pure
// numerics: counts in, evidence out. See docs/STATISTICS-IMPLEMENTATION.md.
namespace smartcanary::stats {

// One evaluation interval's counter increases.
struct IntervalCounts {
  double baseline_requests = 0;
  double canary_requests = 0;
  double baseline_events = 0;
  double canary_events = 0;
  // The canary's share of traffic that the VirtualService set, time-averaged
  // over the interval (0..1); only the routing check uses it.
  double configured_canary_share = 0;
};

// P(an event came from the canary) when the canary's per-request event
// rate is `ratio` times the baseline's, given the interval's request counts
// (Poisson thinning; a shared time-of-day swing cancels out).
double CanaryEventShare(double ratio, double baseline_requests,
                        double canary_requests);

double LogSumExp(std::span<const double> values);
// KL divergence between Bernoulli(p) and Bernoulli(q), in nats.
double BernoulliKl(double p, double q);

// Per-arm overdispersion of event counts (Pearson chi-square over
// intervals, relative to the arm's pooled rate): 1 for independent events,
// about E[s^2]/E[s] when events come in clusters of size s. Reported as an
// upper confidence value, never below 1, and large until enough intervals
// have been seen.
class Dispersion {
 public:
  void Add(double requests, double events);
  double Factor() const;
  // The factor for an arm whose events weigh against the test's rejection:
  // with no event of its own yet it borrows `other`'s estimate (both arms
  // run the same service), since overweighting it is conservative.
  double FactorOr(const Dispersion& other) const;
  bool has_events() const { return events_ > 0; }

 private:
  double intervals_ = 0, requests_ = 0, events_ = 0, squares_ = 0;
};

// The grid-mixture likelihood-ratio e-process of STATISTICS.md (Lindon &
// Malek's Poisson thinning, alternatives r = (1+m) x {1.25 .. 20} for
// `worse`, (1+m) x {1/1.25 .. 1/20} for not worse), on quasi-likelihood
// counts: each arm's events and requests are divided by that arm's
// dispersion factor, estimated from earlier intervals only. With
// `adjust_dispersion` false every event counts as independent evidence,
// which is not valid for clustered errors (kept as the measured baseline).
class EProcess {
 public:
  EProcess(double ratio0, bool worse, bool adjust_dispersion = true);
  void Add(const IntervalCounts& interval);
  double LogE() const;

 private:
  double ratio0_;
  bool worse_;
  bool adjust_;
  Dispersion baseline_, canary_;
  std::vector<double> llr_;
};

double LogEProcess(std::span<const IntervalCounts> intervals, double ratio0,
                   bool worse, bool adjust_dispersion = true);

struct Evidence {
  double baseline_requests = 0, canary_requests = 0;
  double baseline_events = 0, canary_events = 0;
  int informative_intervals = 0;  // intervals with at least one event
  double rate_ratio = 0;  // canary rate / baseline rate (NaN: no events)
  // Anytime-valid interval for the rate ratio (each side alpha/2).
  double ratio_low = 0, ratio_high = 0;
  double log_e_worse = 0;      // against r <= 1 + margin
  double log_e_not_worse = 0;  // against r >= 1 + margin
  double baseline_dispersion = 1, canary_dispersion = 1;
  bool worse = false;      // log_e_worse >= log(2/alpha): roll back
  bool not_worse = false;  // log_e_not_worse >= log(2/alpha): may promote
};

// Accumulates all intervals since the canary started; `alpha` is this
// metric's false-rollback budget (the rollout's alpha over its comparative
// metrics), split evenly between rolling back and promoting.
Evidence Evaluate(std::span<const IntervalCounts> intervals, double margin,
                  double alpha);

// The routing check: two one-sided betting tests on request counts against
// the configured share +- `tolerance`. True when the observed split is
// proven outside it (then no share-based comparison can be trusted).
bool RoutingMismatch(std::span<const IntervalCounts> intervals,
                     double tolerance, double alpha, double* observed_share,
                     double* configured_share);

// The least time (s) any test needs to detect a regression to
// `regressed_rate` from `baseline_rate` with power 1-beta at level alpha:
// kl(1-beta || alpha) / I, I the information rate with an unknown baseline
// rate (STATISTICS.md, "Guards").
double MinimumDetectionSeconds(double baseline_rps, double canary_rps,
                               double baseline_rate, double regressed_rate,
                               double alpha, double beta);

}  // namespace smartcanary::stats

#endif  // SMARTCANARY_ANALYSIS_STATS_EVIDENCE_H_
