#ifndef SMARTCANARY_CONTROLLER_AUTH_CLIENT_CERT_IDENTITY_H_
#define SMARTCANARY_CONTROLLER_AUTH_CLIENT_CERT_IDENTITY_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "controller/auth/caller.h"

namespace smartcanary::auth {

// The identity a verified client certificate carries, read as the API
// server reads it: CN is the user, each O a group. `subject` is gRPC's
// x509_subject property (RFC 2253: "CN=alice,O=team-a", escapes as
// "\," or "\2C"). UNAUTHENTICATED when there is no CN.
absl::StatusOr<Caller> CallerFromX509Subject(absl::string_view subject);

}  // namespace smartcanary::auth

#endif  // SMARTCANARY_CONTROLLER_AUTH_CLIENT_CERT_IDENTITY_H_
