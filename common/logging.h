#ifndef SMARTCANARY_COMMON_LOGGING_H_
#define SMARTCANARY_COMMON_LOGGING_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "spdlog/logger.h"

namespace smartcanary {

// Makes a stderr logger called `name` the default one, in `format` ("json":
// one JSON object per line; "text": a timestamped line). Messages are escaped
// either way (see common/text_escape.h), so text quoted from an API object
// cannot forge a line or break the JSON. An unknown format is an error
// naming --log-format.
absl::Status ConfigureLogging(const std::string& name, std::string_view format);

// Sets `logger`'s pattern for `format`; ConfigureLogging's core, separate so
// tests can log into a buffer.
absl::Status ApplyLogFormat(spdlog::logger& logger, std::string_view format);

}  // namespace smartcanary

#endif  // SMARTCANARY_COMMON_LOGGING_H_
