#include "common/utf8.h"

#include "absl/strings/str_format.h"

namespace smartcanary {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD
constexpr char kCutMark[] = "...";

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Bytes of `text` that fit in `max_bytes` without splitting a character;
// `text` must be valid UTF-8.
size_t CharBoundaryAtMost(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text.size();
  size_t end = max_bytes;
  while (end > 0 && IsContinuation(static_cast<unsigned char>(text[end])))
    --end;
  return end;
}

}  // namespace

Utf8Char DecodeUtf8(absl::string_view text, size_t pos) {
  if (pos >= text.size()) return {};
  const unsigned char lead = static_cast<unsigned char>(text[pos]);
  if (lead < 0x80) return {1, lead};
  size_t length = 0;
  char32_t cp = 0, min = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, cp = lead & 0x1F, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, cp = lead & 0x0F, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, cp = lead & 0x07, min = 0x10000;
  } else {
    return {};
  }
  if (pos + length > text.size()) return {};
  for (size_t i = 1; i < length; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[pos + i]);
    if (!IsContinuation(c)) return {};
    cp = (cp << 6) | (c & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {};
  return {length, cp};
}

bool IsValidUtf8(absl::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = DecodeUtf8(text, pos).length;
    if (length == 0) return false;
    pos += length;
  }
  return true;
}

std::string SanitizeUtf8(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = DecodeUtf8(text, pos).length;
    if (length == 0) {
      out += kReplacement;
      ++pos;
    } else {
      out.append(text.data() + pos, length);
      pos += length;
    }
  }
  return out;
}

std::string SanitizeAndCap(absl::string_view text, size_t max_bytes) {
  std::string clean = SanitizeUtf8(text);
  if (clean.size() <= max_bytes) return clean;
  const size_t mark = sizeof(kCutMark) - 1;
  if (max_bytes < mark) return std::string(kCutMark, max_bytes);
  clean.resize(CharBoundaryAtMost(clean, max_bytes - mark));
  return clean + kCutMark;
}

std::string QuoteForMessage(absl::string_view text, size_t max_bytes) {
  std::string out;
  for (char c : SanitizeAndCap(text, max_bytes)) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7F) {
      absl::StrAppendFormat(&out, "\\x%02X", u);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string CodePointName(char32_t code_point) {
  return absl::StrFormat("U+%04X", static_cast<uint32_t>(code_point));
}

}  // namespace smartcanary
