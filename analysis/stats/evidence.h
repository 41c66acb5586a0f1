#ifndef SMARTCANARY_ANALYSIS_STATS_EVIDENCE_H_
#define SMARTCANARY_ANALYSIS_STATS_EVIDENCE_H_

#include <span>
#include <vector>

// Anytime-valid comparison of canary against baseline on event counts
// (errors, 5xx, gRPC non-OK, requests slower than an objective). Pure
// numerics: counts in, evidence out. See docs/STATISTICS.md.
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

// The declared bound on bursts: the guarantee holds when bad events arrive
// in bursts (a pod hiccup failing several in-flight requests of one arm) of
// at most this many events each, bursts independent of each other given
// the traffic (docs/STATISTICS.md, "Validity"). 1 is
// independent events. A rollout declares it as `maxBurst`.
inline constexpr double kDefaultMaxBurst = 5;

// The switched process (EProcess) bets linearly on the rising arm in an
// interval where that arm expects at most this many events; above it,
// log(1 + a x) grows slower than the chord factor's x log(theta/theta0)/B
// (docs/STATISTICS.md, "The evidence"; the benchmark found 2-5 alike).
inline constexpr double kLinearMaxExpectedEvents = 4;

// The expected log-growth in one interval of the switched process's linear
// factor, bet for the rising arm's share of events share1 against share0,
// when the arms' events are Poisson with means rising_mean and
// falling_mean: E log(1 + a X) + b E Y. Per event it approaches the
// Bernoulli KL divergence at max_burst 1 as the means shrink, and falls as
// they grow (log(1 + a x) <= x log(1 + a)).
double LinearBetGrowth(double share0, double share1, double max_burst,
                       double rising_mean, double falling_mean);

// How one metric's alpha is spent (docs/STATISTICS.md, "One
// alpha per rollout"): the chance of any false action, a rollback, an early
// promotion or a routing pause, is at most alpha.
inline constexpr double kRollbackShare = 0.5;
inline constexpr double kPromotionShare = 0.25;
inline constexpr double kRoutingShare = 0.25;

// The grid-mixture likelihood-ratio e-process of Lindon & Malek's Poisson
// thinning (alternatives r = (1+m) x {1.25 .. 20} for `worse`,
// (1+m) x {1/1.25 .. 1/20} for not worse), with every event weighed as
// 1/max_burst of an independent one. Dividing counts by a bound on each
// burst keeps every grid component's expectation at most 1 under the null
// whatever the bursts' sizes (up to the bound) and however they differ
// between the arms; no estimate is involved.
//
// For max_burst > 1 it is averaged with a switched process: the same grid,
// but in an interval where the arm that rises under the alternative expects
// few events, that arm's factor is 1 + a x, whose expectation needs no burst
// bound, so only the other arm pays for the bound. It is faster when events
// are sparse (docs/STATISTICS.md, "Power").
class EProcess {
 public:
  EProcess(double ratio0, bool worse, double max_burst = kDefaultMaxBurst);
  void Add(const IntervalCounts& interval);
  double LogE() const;

 private:
  double ratio0_;
  bool worse_;
  double max_burst_;
  std::vector<double> llr_;
  std::vector<double> switched_llr_;  // empty when max_burst is 1
  // The rising arm's totals so far, for choosing each interval's factor.
  double rising_requests_seen_ = 0;
  double rising_events_seen_ = 0;
};

double LogEProcess(std::span<const IntervalCounts> intervals, double ratio0,
                   bool worse, double max_burst = kDefaultMaxBurst);

// The observed variance-to-mean ratio of an arm's per-interval counts
// (Pearson chi-square against the arm's pooled rate over J - 1): 1 for
// independent events, about E[s^2]/E[s] for bursts of size s. Shown beside
// the declared bound so a team sees when its bursts look larger; never
// used to decide (an estimate can sit below the truth).
double ObservedDispersion(std::span<const IntervalCounts> intervals,
                          bool canary);

struct Evidence {
  double baseline_requests = 0, canary_requests = 0;
  double baseline_events = 0, canary_events = 0;
  int informative_intervals = 0;  // intervals with at least one event
  double rate_ratio = 0;  // canary rate / baseline rate (NaN: no events)
  // Anytime-valid interval for the rate ratio: each end inverts its side's
  // test, at alpha x kRollbackShare below and alpha x kPromotionShare above.
  double ratio_low = 0, ratio_high = 0;
  double log_e_worse = 0;               // against r <= 1 + margin
  double log_e_not_worse = 0;           // against r >= 1 + margin
  double max_burst = kDefaultMaxBurst;  // the assumption in force
  // Diagnostics only (ObservedDispersion); NaN with fewer than 2 intervals.
  double baseline_dispersion = 1, canary_dispersion = 1;
  // log_e_worse >= log(1/(alpha kRollbackShare)): roll back.
  bool worse = false;
  // log_e_not_worse >= log(1/(alpha kPromotionShare)): may promote.
  bool not_worse = false;
};

// Accumulates all intervals since the canary started; `alpha` is this
// metric's budget (the rollout's alpha over its distinct comparative
// metrics), of which rolling back and promoting get their shares above;
// `max_burst` the declared burst bound.
Evidence Evaluate(std::span<const IntervalCounts> intervals, double margin,
                  double alpha, double max_burst = kDefaultMaxBurst);

// The routing check: two one-sided betting tests on request counts against
// the configured share +- `tolerance`. True when the observed split is
// proven outside it (then no share-based comparison can be trusted).
bool RoutingMismatch(std::span<const IntervalCounts> intervals,
                     double tolerance, double alpha, double* observed_share,
                     double* configured_share);

// The least time (s) any test needs to detect a regression to
// `regressed_rate` from `baseline_rate` with power 1-beta at level alpha:
// kl(1-beta || alpha) / I, I the information rate between the regression
// and the nearest law of the null "canary rate <= null_ratio x baseline
// rate", the baseline rate unknown, events independent
// (docs/STATISTICS.md, "Power"). null_ratio 1 is a test without margin;
// the judge's null is 1 + margin, which takes longer to reject.
double MinimumDetectionSeconds(double baseline_rps, double canary_rps,
                               double baseline_rate, double regressed_rate,
                               double alpha, double beta,
                               double null_ratio = 1);

}  // namespace smartcanary::stats

#endif  // SMARTCANARY_ANALYSIS_STATS_EVIDENCE_H_
