#include "common/k8s_names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/utf8.h"

namespace smartcanary {
namespace {

// The rejected text is quoted in errors; quote it safely (valid UTF-8, no
// control characters, bounded) since it came from the user.
std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", QuoteForMessage(text, 80), "\"");
}

bool IsLowerAlnum(char c) {
  return absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
         (c >= 'a' && c <= 'z');
}

bool IsAlnum(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c));
}

absl::Status Invalid(absl::string_view text, absl::string_view kind,
                     absl::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrCat(Quoted(text), " is not a valid ", kind, ": ", rule));
}

// One DNS-1123 label without the length rule (a subdomain checks its own).
bool IsLabelShape(absl::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back()))
    return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

bool IsSubdomainShape(absl::string_view s) {
  if (s.empty()) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    if (!IsLabelShape(s.substr(start, dot == absl::string_view::npos
                                          ? absl::string_view::npos
                                          : dot - start))) {
      return false;
    }
    if (dot == absl::string_view::npos) return true;
    start = dot + 1;
  }
}

// The name part of a label key and a non-empty label value share one rule.
bool IsQualifiedNamePart(absl::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

constexpr char kSubdomainRule[] =
    "must be lowercase letters, digits, '-' and '.', start and end with a "
    "letter or digit";
constexpr char kLabelRule[] =
    "must be lowercase letters, digits and '-', start and end with a letter "
    "or digit";
constexpr char kQualifiedRule[] =
    "must be letters, digits, '-', '_' and '.', start and end with a letter "
    "or digit";

absl::Status ValidateName(absl::string_view name, size_t max_length,
                          bool (*shape)(absl::string_view), const char* rule) {
  if (name.empty()) return absl::InvalidArgumentError("must not be empty");
  if (name.size() > max_length) {
    return Invalid(name, "name",
                   absl::StrCat("must be at most ", max_length,
                                " characters, got ", name.size()));
  }
  if (!shape(name)) return Invalid(name, "name", rule);
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateDns1123Subdomain(absl::string_view name) {
  return ValidateName(name, kMaxSubdomainLength, IsSubdomainShape,
                      kSubdomainRule);
}

absl::Status ValidateDns1123Label(absl::string_view name) {
  return ValidateName(name, kMaxLabelLength, IsLabelShape, kLabelRule);
}

absl::Status ValidateLabelKey(absl::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("must not be empty");
  absl::string_view name = key;
  if (const size_t slash = key.find('/'); slash != absl::string_view::npos) {
    const absl::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (prefix.size() > kMaxSubdomainLength || !IsSubdomainShape(prefix)) {
      return Invalid(
          key, "label key",
          absl::StrCat("the prefix before '/' ", kSubdomainRule, ", at most ",
                       kMaxSubdomainLength, " characters"));
    }
  }
  if (name.size() > kMaxLabelLength || !IsQualifiedNamePart(name)) {
    return Invalid(key, "label key",
                   absl::StrCat("the name ", kQualifiedRule, ", at most ",
                                kMaxLabelLength, " characters"));
  }
  return absl::OkStatus();
}

absl::Status ValidateLabelValue(absl::string_view value) {
  if (value.empty()) return absl::OkStatus();
  if (value.size() > kMaxLabelLength || !IsQualifiedNamePart(value)) {
    return Invalid(value, "label value",
                   absl::StrCat(kQualifiedRule, ", at most ", kMaxLabelLength,
                                " characters"));
  }
  return absl::OkStatus();
}

std::string EscapePathSegment(absl::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (char c : segment) {
    if (IsAlnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", static_cast<unsigned char>(c));
    }
  }
  // "." and ".." are unreserved yet still mean "this/parent directory" to a
  // path normalizer: escape them whole.
  if (out == "." || out == "..") {
    out = segment.size() == 1 ? "%2E" : "%2E%2E";
  }
  return out;
}

}  // namespace smartcanary
