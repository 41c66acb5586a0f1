#ifndef SMARTCANARY_COMMON_FILES_H_
#define SMARTCANARY_COMMON_FILES_H_

#include <string>

#include "absl/status/statusor.h"

namespace smartcanary {

// The whole file (credentials, tokens, certificates); NOT_FOUND naming the
// path when it cannot be read.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// A token or password file: its content without surrounding white space.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

}  // namespace smartcanary

#endif  // SMARTCANARY_COMMON_FILES_H_
