#include "controller/analysis/promql_text.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace smartcanary {
namespace {

// Index just past the string literal starting at `i` (a quote character).
size_t SkipString(absl::string_view text, size_t i) {
  const char quote = text[i];
  for (size_t j = i + 1; j < text.size(); ++j) {
    if (text[j] == '\\' && quote != '`') {
      ++j;
    } else if (text[j] == quote) {
      return j + 1;
    }
  }
  return text.size();
}

bool IsQuote(char c) { return c == '"' || c == '\'' || c == '`'; }

// Calls `visit` with the text between each `open` and its `close`, outside
// string literals (matchers may hold regexes such as "[a-z]+").
template <typename Visit>
void ForEachBracketed(absl::string_view text, char open, char close,
                      Visit visit) {
  for (size_t i = 0; i < text.size();) {
    if (IsQuote(text[i])) {
      i = SkipString(text, i);
      continue;
    }
    if (text[i] != open) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < text.size() && text[j] != close) {
      j = IsQuote(text[j]) ? SkipString(text, j) : j + 1;
    }
    if (j >= text.size()) return;
    visit(text.substr(i + 1, j - i - 1));
    i = j + 1;
  }
}

}  // namespace

bool ParsePromDuration(absl::string_view text, absl::Duration* out) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty()) return false;
  absl::Duration total = absl::ZeroDuration();
  size_t i = 0;
  while (i < text.size()) {
    size_t digits = i;
    while (digits < text.size() &&
           std::isdigit(static_cast<unsigned char>(text[digits])))
      ++digits;
    int64_t n = 0;
    if (digits == i || !absl::SimpleAtoi(text.substr(i, digits - i), &n))
      return false;
    size_t unit_end = digits;
    while (unit_end < text.size() &&
           std::isalpha(static_cast<unsigned char>(text[unit_end])))
      ++unit_end;
    const absl::string_view unit = text.substr(digits, unit_end - digits);
    if (unit == "ms") {
      total += absl::Milliseconds(n);
    } else if (unit == "s") {
      total += absl::Seconds(n);
    } else if (unit == "m") {
      total += absl::Minutes(n);
    } else if (unit == "h") {
      total += absl::Hours(n);
    } else if (unit == "d") {
      total += absl::Hours(n) * 24;
    } else if (unit == "w") {
      total += absl::Hours(n) * (24 * 7);
    } else if (unit == "y") {
      // Duration arithmetic saturates where 24 * 365 * n would overflow.
      total += absl::Hours(n) * (24 * 365);
    } else {
      return false;
    }
    i = unit_end;
  }
  *out = total;
  return true;
}

std::vector<absl::Duration> RangeSelectors(absl::string_view promql) {
  std::vector<absl::Duration> ranges;
  ForEachBracketed(promql, '[', ']', [&](absl::string_view inside) {
    // A subquery's range is before its colon: [1h:30s].
    const size_t colon = inside.find(':');
    absl::Duration range;
    if (ParsePromDuration(inside.substr(0, colon), &range))
      ranges.push_back(range);
  });
  return ranges;
}

bool SplitRatio(absl::string_view promql, Ratio* out) {
  int depth = 0;
  for (size_t i = 0; i < promql.size();) {
    const char c = promql[i];
    if (IsQuote(c)) {
      i = SkipString(promql, i);
      continue;
    }
    if (c == '(' || c == '{' || c == '[') ++depth;
    if (c == ')' || c == '}' || c == ']') --depth;
    if (c == '/' && depth == 0) {
      out->numerator =
          std::string(absl::StripAsciiWhitespace(promql.substr(0, i)));
      out->denominator =
          std::string(absl::StripAsciiWhitespace(promql.substr(i + 1)));
      return true;
    }
    ++i;
  }
  return false;
}

std::vector<std::string> LabelMatchers(absl::string_view promql) {
  std::vector<std::string> matchers;
  ForEachBracketed(promql, '{', '}', [&](absl::string_view inside) {
    size_t start = 0;
    for (size_t i = 0; i <= inside.size();) {
      if (i < inside.size() && IsQuote(inside[i])) {
        i = SkipString(inside, i);
        continue;
      }
      if (i == inside.size() || inside[i] == ',') {
        const absl::string_view one =
            absl::StripAsciiWhitespace(inside.substr(start, i - start));
        if (!one.empty()) matchers.emplace_back(one);
        start = i + 1;
      }
      ++i;
    }
  });
  return matchers;
}

}  // namespace smartcanary
