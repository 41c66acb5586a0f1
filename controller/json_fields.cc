#include "controller/json_fields.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace smartcanary {

absl::Status FieldError(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::Status RejectUnknownFields(const nlohmann::json& object,
                                 const std::string& path,
                                 const std::set<std::string>& known) {
  if (!object.is_object()) return FieldError(path, "must be an object");
  for (const auto& [key, value] : object.items()) {
    if (!known.count(key)) {
      return FieldError(absl::StrCat(path, ".", key),
                        absl::StrCat("unknown field (expected one of: ",
                                     absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace smartcanary
