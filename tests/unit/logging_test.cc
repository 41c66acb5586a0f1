// Log lines stay one line of valid JSON (or one text line) whatever a
// message quotes.
#include "common/logging.h"

#include <sstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "spdlog/sinks/ostream_sink.h"

namespace smartcanary {
namespace {

// A message as an attacker would shape a resource name: a quote to end the
// JSON string, a newline and a forged line, an escape sequence, a lone
// backslash, half a UTF-8 character and a byte that is never UTF-8.
const std::string kHostile =
    "name \"x\",\"level\":\"fatal\"}\n{\"forged\":1 \x1b[2J \\ \xe2\x88 \xff";

std::string LogOnce(std::string_view format) {
  std::ostringstream out;
  spdlog::logger logger("test",
                        std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  EXPECT_TRUE(ApplyLogFormat(logger, format).ok());
  logger.info("{}", kHostile);
  logger.flush();
  return out.str();
}

TEST(LoggingTest, JsonLineStaysOneValidObject) {
  const std::string line = LogOnce("json");
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  const nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << line;
  EXPECT_EQ(parsed.size(), 4u);
  EXPECT_EQ(parsed["level"], "info");
  EXPECT_EQ(parsed["logger"], "test");
  // Everything valid is kept as it was; invalid bytes become U+FFFD.
  EXPECT_EQ(parsed["msg"],
            "name \"x\",\"level\":\"fatal\"}\n{\"forged\":1 \x1b[2J \\ "
            "\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD");
}

TEST(LoggingTest, TextLineHasNoControlCharacters) {
  const std::string line = LogOnce("text");
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  EXPECT_NE(line.find("}\\n{\"forged\":1 \\x1b[2J \\\\ \\xe2\\x88 \\xff"),
            std::string::npos)
      << line;
}

TEST(LoggingTest, UnknownFormatIsRefusedNamingTheFlag) {
  spdlog::logger logger("test");
  const absl::Status status = ApplyLogFormat(logger, "yaml");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("--log-format: \"yaml\" is not one of"),
            std::string::npos)
      << status;
}

}  // namespace
}  // namespace smartcanary
