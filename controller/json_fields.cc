#include "controller/json_fields.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/utf8.h"

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
      return FieldError(absl::StrCat(path, ".", QuoteForMessage(key, 80)),
                        absl::StrCat("unknown field (expected one of: ",
                                     absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

namespace {

// The field, or nullptr when it is missing or null.
const nlohmann::json* Present(const nlohmann::json& object,
                              const std::string& key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

// A user's value quoted in an error: dump() with the strict handler throws
// on invalid UTF-8, and the value may be long.
std::string Shown(const nlohmann::json& value) {
  return QuoteForMessage(
      value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 80);
}

}  // namespace

absl::StatusOr<std::string> StringField(const nlohmann::json& object,
                                        const std::string& key,
                                        const std::string& path,
                                        const std::string& fallback) {
  const nlohmann::json* value = Present(object, key);
  if (value == nullptr) return fallback;
  if (!value->is_string()) {
    return FieldError(
        path, absl::StrCat("must be a string, got ", value->type_name()));
  }
  return value->get<std::string>();
}

absl::StatusOr<bool> BoolField(const nlohmann::json& object,
                               const std::string& key, const std::string& path,
                               bool fallback) {
  const nlohmann::json* value = Present(object, key);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) {
    return FieldError(
        path, absl::StrCat("must be true or false, got ", value->type_name()));
  }
  return value->get<bool>();
}

absl::StatusOr<double> NumberField(const nlohmann::json& object,
                                   const std::string& key,
                                   const std::string& path, double fallback) {
  const nlohmann::json* value = Present(object, key);
  if (value == nullptr) return fallback;
  if (!value->is_number()) {
    // A quoted number is the usual slip (YAML `alpha: "0.01"`): say so.
    return FieldError(
        path, absl::StrCat("must be a number, got ", value->type_name(), " ",
                           Shown(*value)));
  }
  const double number = value->get<double>();
  if (!std::isfinite(number)) return FieldError(path, "must be finite");
  return number;
}

absl::StatusOr<int64_t> IntegerIn(const nlohmann::json& value,
                                  const std::string& path, int64_t min,
                                  int64_t max) {
  const auto out_of_range = [&] {
    return FieldError(path, absl::StrCat("must be between ", min, " and ", max,
                                         ", got ", Shown(value)));
  };
  if (value.is_number_unsigned()) {
    const uint64_t n = value.get<uint64_t>();
    if (max < 0 || n > static_cast<uint64_t>(max)) return out_of_range();
    if (static_cast<int64_t>(n) < min) return out_of_range();
    return static_cast<int64_t>(n);
  }
  if (!value.is_number_integer()) {
    return FieldError(
        path, absl::StrCat("must be a whole number, got ", value.type_name()));
  }
  const int64_t n = value.get<int64_t>();
  if (n < min || n > max) return out_of_range();
  return n;
}

}  // namespace smartcanary
