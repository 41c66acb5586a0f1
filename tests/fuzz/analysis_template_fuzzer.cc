// ParseAnalysisTemplate on JSON from arbitrary bytes: a template is written
// by any team and read by canaryd and the analyzer for everyone.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "controller/analysis/analysis_spec.h"
#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json spec = smartcanary::fuzz::ParseBoundedJson(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (spec.is_discarded()) return 0;
  auto parsed = smartcanary::ParseAnalysisTemplate(spec, "fuzz/template");
  if (!parsed.ok()) smartcanary::fuzz::CheckWritable(parsed.status());
  return 0;
}
