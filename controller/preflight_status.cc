#include "controller/preflight_status.h"

#include "absl/strings/str_cat.h"
#include "controller/json_fields.h"

namespace smartcanary {

using nlohmann::json;

namespace {

constexpr char kPath[] = "status.preflight";

// Seconds in the status; -1 stands for "never within the plan".
int64_t SecondsOrNever(absl::Duration d) {
  return d == absl::InfiniteDuration() ? -1 : absl::ToInt64Seconds(d);
}

absl::Duration DurationOrNever(int64_t seconds) {
  return seconds < 0 ? absl::InfiniteDuration() : absl::Seconds(seconds);
}

}  // namespace

const char* PreflightPolicyName(PreflightPolicy policy) {
  return policy == PreflightPolicy::kEnforce ? "enforce" : "warn";
}

absl::StatusOr<PreflightPolicy> ParsePreflightPolicy(const json& value) {
  if (value.is_string()) {
    for (PreflightPolicy policy :
         {PreflightPolicy::kWarn, PreflightPolicy::kEnforce}) {
      if (value.get<std::string>() == PreflightPolicyName(policy))
        return policy;
    }
  }
  return FieldError("spec.preflight", "must be \"warn\" or \"enforce\"");
}

std::string PreflightResultName(const PreflightStatus& p) {
  if (p.unknown) return "Unknown";
  return p.plan_long_enough ? "Passed" : "Warning";
}

json PreflightStatusToJson(const PreflightStatus& p) {
  json out = {{"result", PreflightResultName(p)},
              {"regressionSeconds", SecondsOrNever(p.regression_detected)},
              {"notWorseSeconds", SecondsOrNever(p.not_worse_proven)},
              {"planLongEnough", p.plan_long_enough},
              {"message", p.message},
              {"computedAt", absl::FormatTime(absl::RFC3339_full, p.computed_at,
                                              absl::UTCTimeZone())},
              {"generation", p.generation},
              {"stepIndex", p.step_index}};
  if (p.overridden) out["overridden"] = true;
  return out;
}

absl::StatusOr<PreflightStatus> PreflightStatusFromJson(const json& value) {
  if (!value.is_object()) return FieldError(kPath, "must be an object");
  PreflightStatus out;
  auto result = StringField(value, "result", absl::StrCat(kPath, ".result"));
  if (!result.ok()) return result.status();
  out.unknown = *result == "Unknown";
  auto number = [&](const char* key,
                    int64_t fallback) -> absl::StatusOr<int64_t> {
    if (!value.contains(key) || value[key].is_null()) return fallback;
    return IntegerIn(value[key], absl::StrCat(kPath, ".", key), INT64_MIN,
                     INT64_MAX);
  };
  auto regression = number("regressionSeconds", -1);
  if (!regression.ok()) return regression.status();
  out.regression_detected = DurationOrNever(*regression);
  auto not_worse = number("notWorseSeconds", -1);
  if (!not_worse.ok()) return not_worse.status();
  out.not_worse_proven = DurationOrNever(*not_worse);
  auto generation = number("generation", 0);
  if (!generation.ok()) return generation.status();
  out.generation = *generation;
  auto step = number("stepIndex", 0);
  if (!step.ok()) return step.status();
  out.step_index = static_cast<int>(*step);
  auto enough = BoolField(value, "planLongEnough",
                          absl::StrCat(kPath, ".planLongEnough"), false);
  if (!enough.ok()) return enough.status();
  out.plan_long_enough = *enough;
  auto overridden =
      BoolField(value, "overridden", absl::StrCat(kPath, ".overridden"), false);
  if (!overridden.ok()) return overridden.status();
  out.overridden = *overridden;
  auto message = StringField(value, "message", absl::StrCat(kPath, ".message"));
  if (!message.ok()) return message.status();
  out.message = *message;
  auto at =
      StringField(value, "computedAt", absl::StrCat(kPath, ".computedAt"));
  if (!at.ok()) return at.status();
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, *at, &out.computed_at, &error))
    return FieldError(absl::StrCat(kPath, ".computedAt"), "not a time");
  return out;
}

}  // namespace smartcanary
