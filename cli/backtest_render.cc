#include "cli/backtest_render.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/text_escape.h"

namespace smartcanary::cli {
namespace {

const char* VerdictText(v1::MeasurementPhase phase) {
  switch (phase) {
    case v1::SUCCESSFUL:
      return "Successful";
    case v1::FAILED:
      return "Failed";
    case v1::INCONCLUSIVE:
      return "Inconclusive";
    case v1::ERROR:
      return "Error";
    default:
      return "Unknown";
  }
}

// JSON has no NaN: a ratio the judge could not compute is null.
nlohmann::json Number(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json();
}

}  // namespace

std::string RenderBacktest(const v1::BacktestResponse& response) {
  std::string out = absl::StrFormat("%-9s %-12s %-12s %-10s %-10s %-9s %s\n",
                                    "INTERVAL", "END", "VERDICT", "E-WORSE",
                                    "E-NOTWORSE", "RATIO", "INTERVAL(RATIO)");
  for (const v1::BacktestDecision& d : response.decisions()) {
    absl::StrAppend(
        &out,
        absl::StrFormat("%-9d %-12d %-12s %-10.3g %-10.3g %-9.3g [%.3g, %.3g]",
                        d.interval(), d.end_seconds(), VerdictText(d.phase()),
                        d.e_worse(), d.e_not_worse(), d.rate_ratio(),
                        d.ratio_low(), d.ratio_high()),
        d.not_worse() ? "  not worse" : "", "\n");
  }
  absl::StrAppend(
      &out, "summary: ", EscapeControlCharacters(response.summary()), "\n");
  return out;
}

nlohmann::json BacktestToJson(const v1::BacktestResponse& response) {
  nlohmann::json decisions = nlohmann::json::array();
  for (const v1::BacktestDecision& d : response.decisions()) {
    decisions.push_back({{"interval", d.interval()},
                         {"endSeconds", d.end_seconds()},
                         {"verdict", VerdictText(d.phase())},
                         {"notWorse", d.not_worse()},
                         {"eWorse", Number(d.e_worse())},
                         {"eNotWorse", Number(d.e_not_worse())},
                         {"rateRatio", Number(d.rate_ratio())},
                         {"ratioLow", Number(d.ratio_low())},
                         {"ratioHigh", Number(d.ratio_high())},
                         {"message", d.message()}});
  }
  return {{"decisions", decisions},
          {"firstRollback", response.first_rollback()},
          {"firstNotWorse", response.first_not_worse()},
          {"summary", response.summary()}};
}

}  // namespace smartcanary::cli
