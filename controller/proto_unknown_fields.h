#ifndef SMARTCANARY_CONTROLLER_PROTO_UNKNOWN_FIELDS_H_
#define SMARTCANARY_CONTROLLER_PROTO_UNKNOWN_FIELDS_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace smartcanary {

// The protobuf runtime keeps fields it does not know (a newer or a wrong
// client's) aside and the rest of the code never sees them: a setting sent
// that way would silently not apply. INVALID_ARGUMENT naming where the first
// one is ("spec.trafficRouting: unknown field number 9"), in `message` or
// any message inside it.
absl::Status RejectUnknownProtoFields(const google::protobuf::Message& message,
                                      const std::string& path);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_PROTO_UNKNOWN_FIELDS_H_
