// ParseRolloutSpec on JSON from arbitrary bytes, and the JSON it would write
// back for a spec it accepts.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "controller/rollout_spec.h"
#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json spec = smartcanary::fuzz::ParseBoundedJson(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (spec.is_discarded()) return 0;
  auto parsed = smartcanary::ParseRolloutSpec(spec);
  if (!parsed.ok()) {
    smartcanary::fuzz::CheckWritable(parsed.status());
    return 0;
  }
  (void)smartcanary::RolloutSpecToJson(*parsed).dump();
  return 0;
}
