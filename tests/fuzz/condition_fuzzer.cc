// Condition::Parse and Evaluate on arbitrary text: errors are fine, crashes,
// sanitizer reports and unserializable error messages are not.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "analysis/condition.h"
#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto condition = smartcanary::analysis::Condition::Parse(text);
  if (!condition.ok()) {
    smartcanary::fuzz::CheckWritable(condition.status());
    return 0;
  }
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (const std::vector<double>& result :
       {std::vector<double>{}, std::vector<double>{0.97},
        std::vector<double>{kNaN, -kInf, 0.0, 1e308, -1e-308}}) {
    auto value = condition->Evaluate(result);
    if (!value.ok()) smartcanary::fuzz::CheckWritable(value.status());
  }
  return 0;
}
