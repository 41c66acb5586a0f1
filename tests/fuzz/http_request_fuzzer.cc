// The probe server's request parser on arbitrary bytes, with the default
// limits and with tiny ones, checking what a complete request promises.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "controller/http/http_request.h"

namespace {

void Check(std::string_view raw,
           const smartcanary::http::RequestLimits& limits) {
  using State = smartcanary::http::ParsedRequest::State;
  const auto parsed = smartcanary::http::ParseRequest(raw, limits);
  switch (parsed.state) {
    case State::kComplete:
      if (parsed.request.path.empty() || parsed.request.path[0] != '/' ||
          parsed.request.body.size() > limits.max_body_bytes ||
          parsed.request.headers.size() > limits.max_headers) {
        __builtin_trap();
      }
      break;
    case State::kRejected:
      if (parsed.code < 400 || parsed.code > 599) __builtin_trap();
      break;
    case State::kIncomplete:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  Check(raw, {});
  smartcanary::http::RequestLimits tiny;
  tiny.max_head_bytes = 48;
  tiny.max_headers = 2;
  tiny.max_body_bytes = 4;
  Check(raw, tiny);
  return 0;
}
