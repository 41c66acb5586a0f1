#include "cli/backtest_csv.h"

#include <cmath>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/text_escape.h"

namespace smartcanary::cli {
namespace {

constexpr const char* kColumns[] = {
    "interval_end_seconds", "canary_events",     "canary_requests",
    "baseline_events",      "baseline_requests", "configured_canary_share"};
constexpr size_t kColumnCount = std::size(kColumns);

absl::Status CellError(int line, size_t column, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat("line ", line, ", column ", column + 1, " (",
                   kColumns[column], "): ", what));
}

}  // namespace

absl::StatusOr<v1::BacktestCounts> ParseBacktestCsv(absl::string_view text) {
  v1::BacktestCounts out;
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_number;
    const absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line.front() == '#') continue;
    if (out.intervals().empty() && absl::StartsWith(line, kColumns[0]))
      continue;  // the header
    const std::vector<absl::string_view> cells = absl::StrSplit(line, ',');
    if (cells.size() != kColumnCount) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": ", cells.size(),
                       " columns, want ", kColumnCount,
                       " (interval_end_seconds,canary_events,canary_requests,"
                       "baseline_events,baseline_requests,"
                       "configured_canary_share)"));
    }
    double values[kColumnCount];
    for (size_t c = 0; c < kColumnCount; ++c) {
      const absl::string_view cell = absl::StripAsciiWhitespace(cells[c]);
      if (!absl::SimpleAtod(cell, &values[c]) || !std::isfinite(values[c])) {
        return CellError(
            line_number, c,
            absl::StrCat("\"", EscapeControlCharacters(std::string(cell)),
                         "\" is not a finite number"));
      }
      if (values[c] < 0) return CellError(line_number, c, "must be >= 0");
    }
    if (values[0] != std::floor(values[0]) || values[0] > 1e15)
      return CellError(line_number, 0, "must be whole seconds");
    if (!out.intervals().empty() &&
        values[0] <=
            static_cast<double>(out.intervals().rbegin()->end_seconds()))
      return CellError(line_number, 0,
                       "must be later than the previous line's end");
    if (values[1] > values[2])
      return CellError(line_number, 1, "exceeds canary_requests (column 3)");
    if (values[3] > values[4])
      return CellError(line_number, 3, "exceeds baseline_requests (column 5)");
    if (values[5] > 1)
      return CellError(line_number, 5, "must be a fraction in [0, 1]");
    v1::BacktestInterval* interval = out.add_intervals();
    interval->set_end_seconds(static_cast<int64_t>(values[0]));
    interval->set_canary_events(values[1]);
    interval->set_canary_requests(values[2]);
    interval->set_baseline_events(values[3]);
    interval->set_baseline_requests(values[4]);
    interval->set_configured_canary_share(values[5]);
  }
  if (out.intervals().empty())
    return absl::InvalidArgumentError(
        "standard input: no intervals (one CSV line per interval)");
  return out;
}

}  // namespace smartcanary::cli
