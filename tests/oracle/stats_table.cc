// Prints the C++ statistics on a fixed table of cases as JSON, for
// stats_oracle.py to recompute independently with scipy.
#include <iostream>
#include <random>

#include "analysis/stats/evidence.h"
#include "bench/null_scenarios.h"
#include "nlohmann/json.hpp"

int main() {
  using nlohmann::json;
  using smartcanary::stats::IntervalCounts;
  namespace stats = smartcanary::stats;
  json out = {{"logsumexp", json::array()}, {"kl", json::array()},
              {"bound", json::array()},     {"eprocess", json::array()},
              {"evidence", json::array()},  {"covering", json::array()}};
  std::mt19937_64 random(42);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int i = 0; i < 10; ++i) {
    std::vector<double> v;
    for (int j = 0; j < 1 + i; ++j) v.push_back((unit(random) - 0.5) * 2000);
    out["logsumexp"].push_back({{"values", v}, {"cpp", stats::LogSumExp(v)}});
  }
  for (auto [p, q] : {std::pair{0.5, 0.5},
                      {0.001, 0.0015},
                      {0.9, 0.01},
                      {1.0, 0.01},
                      {0.0, 0.3}}) {
    out["kl"].push_back(
        {{"p", p}, {"q", q}, {"cpp", stats::BernoulliKl(p, q)}});
  }
  for (auto [a, b, pa, pb, r0] : {std::tuple{190.0, 10.0, 0.001, 0.01, 1.0},
                                  {10.0, 10.0, 0.001, 0.01, 1.0},
                                  {1000.0, 500.0, 0.01, 0.015, 1.0},
                                  {50.0, 5.0, 0.002, 0.004, 1.0},
                                  {160.0, 40.0, 0.001, 0.005, 1.25},
                                  {160.0, 40.0, 0.01, 0.04, 1.25},
                                  {1000.0, 500.0, 0.01, 0.015, 1.1}}) {
    out["bound"].push_back(
        {{"baseline_rps", a},
         {"canary_rps", b},
         {"baseline_rate", pa},
         {"canary_rate", pb},
         {"alpha", 0.01},
         {"beta", 0.1},
         {"null_ratio", r0},
         {"cpp", stats::MinimumDetectionSeconds(a, b, pa, pb, 0.01, 0.1, r0)}});
  }
  for (int table = 0; table < 8; ++table) {
    std::vector<IntervalCounts> intervals;
    const double canary_factor = 0.5 + table * 0.4;
    // Tables 4 and 5 are busy: over 4 events an interval in each arm, so
    // the switched process takes its chord factor there.
    const double mean = table == 4 || table == 5 ? 12.0 : 2.0;
    std::poisson_distribution<int> events(mean);
    for (int j = 0; j < 25; ++j) {
      // Tables 6 and 7 leave one arm without events.
      const double base_req = 700 + 200 * unit(random),
                   can_req = 150 + 100 * unit(random);
      intervals.push_back({base_req, can_req,
                           static_cast<double>(events(random)),
                           static_cast<double>(std::poisson_distribution<int>(
                               mean * canary_factor * can_req / base_req *
                               (table % 3 == 0 ? 3 : 1))(random)),
                           0.2});
      if (table == 6) intervals.back().baseline_events = 0;
      if (table == 7) intervals.back().canary_events = 0;
    }
    json rows = json::array();
    for (const auto& c : intervals) {
      rows.push_back({c.baseline_requests, c.canary_requests, c.baseline_events,
                      c.canary_events});
    }
    for (double ratio0 : {1.0, 1.25, 2.0}) {
      for (bool worse : {true, false}) {
        for (double burst : {1.0, 5.0, 33.0}) {
          out["eprocess"].push_back(
              {{"rows", rows},
               {"ratio0", ratio0},
               {"worse", worse},
               {"burst", burst},
               {"cpp", stats::LogEProcess(intervals, ratio0, worse, burst)}});
        }
      }
    }
    const stats::Evidence e = stats::Evaluate(intervals, 0.25, 0.01);
    out["evidence"].push_back({{"rows", rows},
                               {"margin", 0.25},
                               {"alpha", 0.01},
                               {"low", e.ratio_low},
                               {"high", e.ratio_high}});
  }
  for (double mean : {1.0, 2.0, 5.0, 10.0, 20.0}) {
    out["covering"].push_back(
        {{"mean", mean},
         {"max_burst", smartcanary::bench::CoveringMaxBurst(mean)}});
  }
  std::cout << out.dump() << "\n";
  return 0;
}
