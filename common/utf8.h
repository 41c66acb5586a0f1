#ifndef SMARTCANARY_COMMON_UTF8_H_
#define SMARTCANARY_COMMON_UTF8_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

// UTF-8 for text that crosses a boundary: the API server rejects a status
// with invalid UTF-8 (and nlohmann's dump() throws on it), terminals and
// logs must not be handed control characters from user input.
namespace smartcanary {

// The well-formed sequence starting at text[pos] (RFC 3629: no overlong
// forms, no surrogates, at most U+10FFFF): its length in bytes and code
// point, or 0 when text[pos] does not start one.
struct Utf8Char {
  size_t length = 0;
  char32_t code_point = 0;
};
Utf8Char DecodeUtf8(absl::string_view text, size_t pos);

bool IsValidUtf8(absl::string_view text);

// `text` with every byte that is not part of a well-formed sequence replaced
// by U+FFFD.
std::string SanitizeUtf8(absl::string_view text);

// SanitizeUtf8, then cut to at most `max_bytes` bytes at a character
// boundary, marking a cut with "...".
std::string SanitizeAndCap(absl::string_view text, size_t max_bytes);

// For quoting user input inside an error message: SanitizeAndCap, and
// control characters written as \n, \t, \xNN so a message stays one line.
std::string QuoteForMessage(absl::string_view text, size_t max_bytes);

// "U+2212" for a code point.
std::string CodePointName(char32_t code_point);

}  // namespace smartcanary

#endif  // SMARTCANARY_COMMON_UTF8_H_
