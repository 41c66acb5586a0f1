#ifndef SMARTCANARY_CONTROLLER_JSON_FIELDS_H_
#define SMARTCANARY_CONTROLLER_JSON_FIELDS_H_

#include <set>
#include <string>

#include "absl/status/status.h"
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

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_JSON_FIELDS_H_
