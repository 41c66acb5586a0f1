#ifndef SMARTCANARY_CONTROLLER_AUTH_REVIEW_JSON_H_
#define SMARTCANARY_CONTROLLER_AUTH_REVIEW_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace smartcanary::auth {

// Type-checked reads of review answers (nlohmann's value() throws on a
// wrong type): "" / false / empty when absent, INTERNAL naming `path` when
// present with the wrong type.
absl::StatusOr<std::string> StringAt(const nlohmann::json& object,
                                     const std::string& key,
                                     const std::string& path);
absl::StatusOr<bool> BoolAt(const nlohmann::json& object,
                            const std::string& key, const std::string& path);
absl::StatusOr<std::vector<std::string>> StringsAt(const nlohmann::json& object,
                                                   const std::string& key,
                                                   const std::string& path);
// An object member, or an empty object when absent.
absl::StatusOr<nlohmann::json> ObjectAt(const nlohmann::json& object,
                                        const std::string& key,
                                        const std::string& path);

}  // namespace smartcanary::auth

#endif  // SMARTCANARY_CONTROLLER_AUTH_REVIEW_JSON_H_
