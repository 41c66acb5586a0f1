#include "analysis/measurement.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace smartcanary::analysis {
namespace {

std::string ValuesText(const std::vector<double>& values) {
  return absl::StrCat(
      "[",
      absl::StrJoin(values, ", ",
                    [](std::string* out, double v) {
                      absl::StrAppend(out,
                                      std::isnan(v) ? "NaN" : absl::StrCat(v));
                    }),
      "]");
}

}  // namespace

const char* MeasurementPhaseName(MeasurementPhase phase) {
  switch (phase) {
    case MeasurementPhase::kSuccessful:
      return "Successful";
    case MeasurementPhase::kFailed:
      return "Failed";
    case MeasurementPhase::kInconclusive:
      return "Inconclusive";
    case MeasurementPhase::kError:
      return "Error";
  }
  return "Error";
}

bool IsNoData(const std::vector<double>& values) {
  return std::all_of(values.begin(), values.end(),
                     [](double v) { return std::isnan(v); });
}

bool IsNoDataVerdict(const Verdict& verdict) {
  return verdict.phase == MeasurementPhase::kInconclusive &&
         IsNoData(verdict.values);
}

Verdict Judge(const std::optional<Condition>& success,
              const std::optional<Condition>& failure,
              const absl::StatusOr<std::vector<double>>& values) {
  if (!values.ok()) {
    return {
        MeasurementPhase::kError, {}, std::string(values.status().message())};
  }
  if (!success && !failure) {
    return {MeasurementPhase::kError, *values,
            "the metric has no successCondition or failureCondition"};
  }
  const std::vector<double>& result = *values;
  const std::string shown = absl::StrCat("result=", ValuesText(result));
  if (result.empty()) {
    return {MeasurementPhase::kInconclusive, result,
            "no data: the query returned an empty vector (no traffic, or a "
            "selector that "
            "matches nothing)"};
  }
  if (IsNoData(result)) {
    return {MeasurementPhase::kInconclusive, result,
            absl::StrCat("no data: ", shown, " (e.g. 0/0 with no requests)")};
  }
  auto evaluate = [&](const Condition& condition) {
    return condition.Evaluate(result);
  };
  std::optional<bool> failed, succeeded;
  if (failure) {
    auto value = evaluate(*failure);
    if (!value.ok())
      return {MeasurementPhase::kError, result,
              std::string(value.status().message())};
    failed = *value;
  }
  if (success) {
    auto value = evaluate(*success);
    if (!value.ok())
      return {MeasurementPhase::kError, result,
              std::string(value.status().message())};
    succeeded = *value;
  }
  if (failed.value_or(false)) {
    return {MeasurementPhase::kFailed, result,
            absl::StrCat("failureCondition `", failure->text(),
                         "` is true for ", shown)};
  }
  if (succeeded.has_value() && !*succeeded && !failed.has_value()) {
    return {MeasurementPhase::kFailed, result,
            absl::StrCat("successCondition `", success->text(),
                         "` is false for ", shown)};
  }
  if (succeeded.value_or(!success.has_value())) {
    return {MeasurementPhase::kSuccessful, result,
            success ? absl::StrCat("successCondition `", success->text(),
                                   "` is true for ", shown)
                    : absl::StrCat("failureCondition `", failure->text(),
                                   "` is false for ", shown)};
  }
  return {MeasurementPhase::kInconclusive, result,
          absl::StrCat("neither successCondition `", success->text(),
                       "` nor failureCondition `", failure->text(),
                       "` is true for ", shown)};
}

}  // namespace smartcanary::analysis
