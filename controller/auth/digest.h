#ifndef SMARTCANARY_CONTROLLER_AUTH_DIGEST_H_
#define SMARTCANARY_CONTROLLER_AUTH_DIGEST_H_

#include <string>

#include "absl/strings/string_view.h"

namespace smartcanary::auth {

// SHA-256 of `data` in hex: cache keys for tokens and identities, so that a
// token is never kept as a key and two different ones cannot collide.
std::string Sha256Hex(absl::string_view data);

}  // namespace smartcanary::auth

#endif  // SMARTCANARY_CONTROLLER_AUTH_DIGEST_H_
