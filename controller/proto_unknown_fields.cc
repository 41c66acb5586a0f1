#include "controller/proto_unknown_fields.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "controller/json_fields.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"

namespace smartcanary {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

absl::Status RejectUnknownProtoFields(const Message& message,
                                      const std::string& path) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  const google::protobuf::UnknownFieldSet& unknown =
      reflection->GetUnknownFields(message);
  if (!unknown.empty()) {
    return FieldError(
        path, absl::StrCat("unknown field number ", unknown.field(0).number()));
  }
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const std::string field_path = absl::StrCat(path, ".", field->json_name());
    if (!field->is_repeated()) {
      if (auto s = RejectUnknownProtoFields(
              reflection->GetMessage(message, field), field_path);
          !s.ok()) {
        return s;
      }
      continue;
    }
    // Map entries are messages too; their index says which one.
    for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
      if (auto s = RejectUnknownProtoFields(
              reflection->GetRepeatedMessage(message, field, i),
              absl::StrCat(field_path, "[", i, "]"));
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace smartcanary
