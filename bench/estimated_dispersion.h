#ifndef SMARTCANARY_BENCH_ESTIMATED_DISPERSION_H_
#define SMARTCANARY_BENCH_ESTIMATED_DISPERSION_H_

#include <vector>

#include "analysis/stats/evidence.h"

// The judge's previous test, kept only as the benchmark's measured
// counterpart: the same grid mixture on quasi-likelihood counts, each arm's
// counts divided by a dispersion factor ESTIMATED from earlier intervals.
// Not valid: the estimate counts intervals, not bursts, and sits below the
// true factor often enough to exceed alpha (docs/STATISTICS.md).
namespace smartcanary::bench {

class EstimatedDispersion {
 public:
  void Add(double requests, double events);
  double Factor() const;
  double FactorOr(const EstimatedDispersion& other) const;
  bool has_events() const { return events_ > 0; }

 private:
  double intervals_ = 0, requests_ = 0, events_ = 0, squares_ = 0;
};

class EstimatedDispersionEProcess {
 public:
  // `adjust` false counts every event as independent evidence.
  EstimatedDispersionEProcess(double ratio0, bool worse, bool adjust);
  void Add(const stats::IntervalCounts& interval);
  double LogE() const;

 private:
  double ratio0_;
  bool worse_;
  bool adjust_;
  EstimatedDispersion baseline_, canary_;
  std::vector<double> llr_;
};

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_ESTIMATED_DISPERSION_H_
