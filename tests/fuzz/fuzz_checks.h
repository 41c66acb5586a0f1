#ifndef SMARTCANARY_TESTS_FUZZ_FUZZ_CHECKS_H_
#define SMARTCANARY_TESTS_FUZZ_FUZZ_CHECKS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace smartcanary::fuzz {

// An error status is a fine answer to fuzz input, but its message goes into
// the CanaryRollout status as JSON: it must serialize. nlohmann throws on
// invalid UTF-8, and an uncaught exception is a finding, as in canaryd.
inline void CheckWritable(const absl::Status& status) {
  (void)nlohmann::json(std::string(status.message())).dump();
}

// JSON from fuzz input, or discarded when it does not parse or nests deeper
// than any real spec: the parsers under test get JSON from the API server,
// which limits nesting the same way.
inline nlohmann::json ParseBoundedJson(std::string_view text) {
  constexpr int kMaxDepth = 64;
  bool too_deep = false;
  nlohmann::json value = nlohmann::json::parse(
      text.begin(), text.end(),
      [&too_deep](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        if (depth > kMaxDepth) too_deep = true;
        return !too_deep;
      },
      /*allow_exceptions=*/false);
  if (too_deep) return nlohmann::json(nlohmann::json::value_t::discarded);
  return value;
}

}  // namespace smartcanary::fuzz

#endif  // SMARTCANARY_TESTS_FUZZ_FUZZ_CHECKS_H_
