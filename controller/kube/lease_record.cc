#include "controller/kube/lease_record.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace smartcanary::kube {
namespace {

using nlohmann::json;

absl::Status WrongType(const char* field, const char* want) {
  return absl::InvalidArgumentError(
      absl::StrCat("Lease spec.", field, ": must be ", want));
}

absl::StatusOr<std::optional<absl::Time>> OptionalTime(const json& spec,
                                                       const char* field) {
  auto it = spec.find(field);
  if (it == spec.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return WrongType(field, "an RFC 3339 time string");
  auto parsed = ParseMicroTime(it->get<std::string>());
  if (!parsed.ok()) return WrongType(field, "an RFC 3339 time string");
  return std::optional<absl::Time>(*parsed);
}

absl::StatusOr<int> OptionalInt(const json& spec, const char* field) {
  auto it = spec.find(field);
  if (it == spec.end() || it->is_null()) return 0;
  if (!it->is_number_integer()) return WrongType(field, "an integer");
  return it->get<int>();
}

}  // namespace

std::string FormatMicroTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

absl::StatusOr<absl::Time> ParseMicroTime(const std::string& text) {
  absl::Time t;
  std::string error;
  // %Ez takes "Z" as well as "+hh:mm"; %E*S any number of fractional digits.
  if (!absl::ParseTime("%Y-%m-%dT%H:%M:%E*S%Ez", text, &t, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an RFC 3339 time: \"", text, "\": ", error));
  }
  return t;
}

absl::StatusOr<LeaseRecord> LeaseRecordFromSpec(const json& spec) {
  LeaseRecord record;
  if (spec.is_null()) return record;
  if (!spec.is_object()) return WrongType("", "an object");
  if (auto it = spec.find("holderIdentity");
      it != spec.end() && !it->is_null()) {
    if (!it->is_string()) return WrongType("holderIdentity", "a string");
    record.holder_identity = it->get<std::string>();
  }
  auto duration = OptionalInt(spec, "leaseDurationSeconds");
  if (!duration.ok()) return duration.status();
  record.lease_duration_seconds = *duration;
  auto transitions = OptionalInt(spec, "leaseTransitions");
  if (!transitions.ok()) return transitions.status();
  record.lease_transitions = *transitions;
  auto acquired = OptionalTime(spec, "acquireTime");
  if (!acquired.ok()) return acquired.status();
  record.acquire_time = *acquired;
  auto renewed = OptionalTime(spec, "renewTime");
  if (!renewed.ok()) return renewed.status();
  record.renew_time = *renewed;
  return record;
}

json LeaseRecordToSpec(const LeaseRecord& record) {
  json spec = {{"holderIdentity", record.holder_identity},
               {"leaseDurationSeconds", record.lease_duration_seconds},
               {"leaseTransitions", record.lease_transitions}};
  if (record.acquire_time)
    spec["acquireTime"] = FormatMicroTime(*record.acquire_time);
  if (record.renew_time)
    spec["renewTime"] = FormatMicroTime(*record.renew_time);
  return spec;
}

}  // namespace smartcanary::kube
