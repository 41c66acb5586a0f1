#include "controller/auth/review_json.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace smartcanary::auth {
namespace {

using nlohmann::json;

const json* Member(const json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::Status WrongType(const std::string& path, const std::string& key,
                       const char* want) {
  return absl::InternalError(
      absl::StrCat(path, ".", key, ": expected ", want, " in the answer"));
}

}  // namespace

absl::StatusOr<std::string> StringAt(const json& object, const std::string& key,
                                     const std::string& path) {
  const json* value = Member(object, key);
  if (value == nullptr) return std::string();
  if (!value->is_string()) return WrongType(path, key, "a string");
  return value->get<std::string>();
}

absl::StatusOr<bool> BoolAt(const json& object, const std::string& key,
                            const std::string& path) {
  const json* value = Member(object, key);
  if (value == nullptr) return false;
  if (!value->is_boolean()) return WrongType(path, key, "a boolean");
  return value->get<bool>();
}

absl::StatusOr<std::vector<std::string>> StringsAt(const json& object,
                                                   const std::string& key,
                                                   const std::string& path) {
  std::vector<std::string> out;
  const json* value = Member(object, key);
  if (value == nullptr) return out;
  if (!value->is_array()) return WrongType(path, key, "a list of strings");
  for (const json& item : *value) {
    if (!item.is_string()) return WrongType(path, key, "a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

absl::StatusOr<json> ObjectAt(const json& object, const std::string& key,
                              const std::string& path) {
  const json* value = Member(object, key);
  if (value == nullptr) return json::object();
  if (!value->is_object()) return WrongType(path, key, "an object");
  return *value;
}

}  // namespace smartcanary::auth
