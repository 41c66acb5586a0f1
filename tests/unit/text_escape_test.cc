#include "common/text_escape.h"

#include "gtest/gtest.h"

namespace smartcanary {
namespace {

TEST(TextEscapeTest, TerminalTextLosesEveryControlCharacter) {
  // Clear screen, carriage return over a line, and the one-byte C1 CSI.
  EXPECT_EQ(EscapeControlCharacters("a\x1b[2Jb\rc\nd\x7f\xc2\x9b"
                                    "e"),
            "a\\x1b[2Jb\\rc\\nd\\x7f\\u{009b}e");
}

TEST(TextEscapeTest, PrintableUnicodePassesAndInvalidBytesShow) {
  EXPECT_EQ(EscapeControlCharacters("✔ result >= −0.5 ü"),
            "✔ result >= −0.5 ü");
  // Half a minus sign, an overlong slash, a surrogate, a stray continuation.
  EXPECT_EQ(EscapeControlCharacters("\xe2\x88|\xc0\xaf|\xed\xa0\x80|\x80"),
            "\\xe2\\x88|\\xc0\\xaf|\\xed\\xa0\\x80|\\x80");
  EXPECT_EQ(EscapeControlCharacters("a\\x1b"), "a\\\\x1b");
}

TEST(TextEscapeTest, JsonBodyEscapesAndReplaces) {
  EXPECT_EQ(JsonStringBody("q\"b\\n\n\x01\x1b✔\xff"),
            "q\\\"b\\\\n\\n\\u0001\\u001b✔\xEF\xBF\xBD");
}

}  // namespace
}  // namespace smartcanary
