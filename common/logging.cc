#include "common/logging.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/text_escape.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace smartcanary {
namespace {

// The %* flag: the message, escaped for a JSON string or for a text line.
class EscapedMessage : public spdlog::custom_flag_formatter {
 public:
  explicit EscapedMessage(bool json) : json_(json) {}

  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    const std::string escaped =
        json_ ? JsonStringBody(text) : EscapeControlCharacters(text);
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }

  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<EscapedMessage>(json_);
  }

 private:
  bool json_;
};

}  // namespace

absl::Status ApplyLogFormat(spdlog::logger& logger, std::string_view format) {
  if (format != "json" && format != "text") {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-format: \"", EscapeControlCharacters(format),
                     "\" is not one of json, text"));
  }
  const bool json = format == "json";
  auto formatter = std::make_unique<spdlog::pattern_formatter>(
      spdlog::pattern_time_type::utc);
  // The logger name and level are ours, never outside text.
  formatter->add_flag<EscapedMessage>('*', json).set_pattern(
      json
          ? R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","msg":"%*"})"
          : "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %*");
  logger.set_formatter(std::move(formatter));
  return absl::OkStatus();
}

absl::Status ConfigureLogging(const std::string& name,
                              std::string_view format) {
  auto logger = std::make_shared<spdlog::logger>(
      name, std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (absl::Status applied = ApplyLogFormat(*logger, format); !applied.ok()) {
    return applied;
  }
  spdlog::set_default_logger(std::move(logger));
  return absl::OkStatus();
}

}  // namespace smartcanary
