#ifndef SMARTCANARY_BENCH_JUDGES_H_
#define SMARTCANARY_BENCH_JUDGES_H_

#include <string>
#include <vector>

#include "bench/simulation.h"

// The judges compared on the same simulated streams.
namespace smartcanary::bench {

struct Verdict {
  double rollback_second = -1;  // -1: never rolled back
  double promote_second = -1;   // when a good canary may be promoted
};

struct Judge {
  std::string name;
  Verdict (*run)(const Scenario&, const std::vector<Slot>&);
};

// The article's template: pooled (stable+canary) success rate >= 0.95 over
// 5m, measured every 5m, failureLimit 3.
Verdict ArticleTemplate(const Scenario& s, const std::vector<Slot>& seconds);
// Flagger's Istio defaults: canary-only success rate >= 99% over 1m, every
// minute, rollback after 5 failed checks (no data is a failed check); on
// latency scenarios its request-duration check instead.
Verdict FlaggerDefaults(const Scenario& s, const std::vector<Slot>& seconds);
// Kayenta: Mann-Whitney on per-minute event rates since the start, canary
// vs baseline, 98% interval, High when its lower end exceeds 0.25 x the
// Hodges-Lehmann estimate (Kayenta's tolerance); judged every minute, or
// only at the end of each step (Kayenta's usual cadence).
Verdict KayentaMannWhitney(const Scenario& s, const std::vector<Slot>& seconds);
Verdict KayentaEndOfStep(const Scenario& s, const std::vector<Slot>& seconds);
// Ours: the burst-bounded grid-mixture e-process on 5 s intervals, alpha
// 0.01, margin 0.25, the scenario's declared max_burst, with early promotion
// once the canary is proven not worse.
Verdict SmartCanary(const Scenario& s, const std::vector<Slot>& seconds);
// The test this replaced: counts divided by an estimated dispersion factor.
Verdict PreviousEstimatedDispersion(const Scenario& s,
                                    const std::vector<Slot>& seconds);
// The same e-process counting every event as independent (max_burst 1
// whatever the scenario): the remedy's measured counterpart.
Verdict SmartCanaryPerEvent(const Scenario& s,
                            const std::vector<Slot>& seconds);

const std::vector<Judge>& AllJudges();

// Seconds at 5 s resolution; the interval canaryd's analysis evaluates at.
inline constexpr size_t kIntervalSeconds = 5;
inline constexpr double kAlpha = 0.01;
inline constexpr double kMargin = 0.25;

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_JUDGES_H_
