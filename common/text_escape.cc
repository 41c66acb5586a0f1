#include "common/text_escape.h"

#include <cstdint>
#include <cstdio>

#include "common/utf8.h"

namespace smartcanary {
namespace {

constexpr int32_t kInvalid = -1;

// The code point at text[*at], advancing past it; a byte that does not start
// a well-formed sequence yields kInvalid and advances by one, so every byte
// is either part of a valid character or reported.
int32_t NextCodePoint(std::string_view text, size_t* at) {
  const Utf8Char next =
      DecodeUtf8(absl::string_view(text.data(), text.size()), *at);
  if (next.length == 0) {
    ++*at;
    return kInvalid;
  }
  *at += next.length;
  return static_cast<int32_t>(next.code_point);
}

bool IsControl(int32_t point) {
  return point < 0x20 || (point >= 0x7F && point <= 0x9F);
}

void AppendFormatted(std::string* out, const char* format, unsigned value) {
  char buffer[16];
  const int n = std::snprintf(buffer, sizeof(buffer), format, value);
  out->append(buffer, static_cast<size_t>(n));
}

// Escapes that JSON and the terminal form share.
bool AppendShortEscape(std::string* out, int32_t point) {
  switch (point) {
    case '\n':
      *out += "\\n";
      return true;
    case '\r':
      *out += "\\r";
      return true;
    case '\t':
      *out += "\\t";
      return true;
    default:
      return false;
  }
}

// Calls emit(point, bytes, &out) for each code point of `text` (kInvalid
// with the one byte that is not UTF-8) and returns what it appended.
template <typename Emit>
std::string MapCodePoints(std::string_view text, Emit emit) {
  std::string out;
  out.reserve(text.size());
  for (size_t at = 0; at < text.size();) {
    const size_t start = at;
    const int32_t point = NextCodePoint(text, &at);
    emit(point, text.substr(start, at - start), &out);
  }
  return out;
}

}  // namespace

std::string JsonStringBody(std::string_view text) {
  return MapCodePoints(
      text, [](int32_t point, std::string_view bytes, std::string* out) {
        if (point == kInvalid) {
          *out += "\xEF\xBF\xBD";  // U+FFFD
        } else if (point == '"' || point == '\\') {
          *out += '\\';
          *out += static_cast<char>(point);
        } else if (AppendShortEscape(out, point)) {
        } else if (IsControl(point)) {
          AppendFormatted(out, "\\u%04x", static_cast<unsigned>(point));
        } else {
          out->append(bytes);
        }
      });
}

std::string EscapeControlCharacters(std::string_view text) {
  return MapCodePoints(
      text, [](int32_t point, std::string_view bytes, std::string* out) {
        if (point == kInvalid) {
          AppendFormatted(out, "\\x%02x", static_cast<uint8_t>(bytes[0]));
        } else if (point == '\\') {
          // Doubled, so an escape in the output always means an escaped byte.
          *out += "\\\\";
        } else if (AppendShortEscape(out, point)) {
        } else if (point < 0x80 && IsControl(point)) {
          AppendFormatted(out, "\\x%02x", static_cast<unsigned>(point));
        } else if (IsControl(point)) {
          AppendFormatted(out, "\\u{%04x}", static_cast<unsigned>(point));
        } else {
          out->append(bytes);
        }
      });
}

}  // namespace smartcanary
