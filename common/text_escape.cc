#include "common/text_escape.h"

#include <cstdint>
#include <cstdio>

namespace smartcanary {
namespace {

constexpr int32_t kInvalid = -1;

// Decodes the code point at text[*at] and advances past it; an invalid,
// overlong, surrogate or truncated sequence yields kInvalid and advances by
// one byte, so every byte is either part of a valid character or reported.
int32_t NextCodePoint(std::string_view text, size_t* at) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(*at);
  int length;
  int32_t point;
  int32_t min;
  if (lead < 0x80) {
    ++*at;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2, point = lead & 0x1F, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, point = lead & 0x0F, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, point = lead & 0x07, min = 0x10000;
  } else {
    ++*at;
    return kInvalid;
  }
  if (*at + length > text.size()) {
    ++*at;
    return kInvalid;
  }
  for (int i = 1; i < length; ++i) {
    const uint8_t next = byte(*at + i);
    if ((next & 0xC0) != 0x80) {
      ++*at;
      return kInvalid;
    }
    point = (point << 6) | (next & 0x3F);
  }
  if (point < min || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF)) {
    ++*at;
    return kInvalid;
  }
  *at += length;
  return point;
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
