#include "analysis/counter_rate.h"

namespace smartcanary::analysis {

std::optional<double> CounterRate(const CounterSamples& samples) {
  if (samples.size() < 2) return std::nullopt;
  double increase = 0;
  for (auto it = std::next(samples.begin()); it != samples.end(); ++it) {
    const double before = std::prev(it)->second, after = it->second;
    increase += after >= before ? after - before : after;
  }
  const double seconds =
      static_cast<double>(samples.rbegin()->first - samples.begin()->first);
  return increase / seconds;
}

}  // namespace smartcanary::analysis
