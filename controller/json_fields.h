#ifndef SMARTCANARY_CONTROLLER_JSON_FIELDS_H_
#define SMARTCANARY_CONTROLLER_JSON_FIELDS_H_

#include <cstdint>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

// Errors for user-written objects (rollouts, templates) that name the field
// path and what is wrong with it.
namespace smartcanary {

// INVALID_ARGUMENT "<path>: <what>".
absl::Status FieldError(const std::string& path, const std::string& what);

// `object` must be a JSON object whose keys are all in `known`: a typo is an
// error naming the field, never a silently ignored default.
absl::Status RejectUnknownFields(const nlohmann::json& object,
                                 const std::string& path,
                                 const std::set<std::string>& known);

// Typed reads of `object[key]` at `path` (the field's full path). A missing
// or null field is `fallback`; a field of another type is a FieldError, never
// a nlohmann exception (value() and get() throw on a wrong type). `object`
// must be a JSON object (RejectUnknownFields checks that first).
absl::StatusOr<std::string> StringField(const nlohmann::json& object,
                                        const std::string& key,
                                        const std::string& path,
                                        const std::string& fallback = "");
absl::StatusOr<bool> BoolField(const nlohmann::json& object,
                               const std::string& key, const std::string& path,
                               bool fallback);
// A finite number.
absl::StatusOr<double> NumberField(const nlohmann::json& object,
                                   const std::string& key,
                                   const std::string& path, double fallback);

// `value` as a whole number in [min, max]: a larger JSON integer is an error,
// never silently narrowed.
absl::StatusOr<int64_t> IntegerIn(const nlohmann::json& value,
                                  const std::string& path, int64_t min,
                                  int64_t max);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_JSON_FIELDS_H_
