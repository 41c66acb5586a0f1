#ifndef SMARTCANARY_COMMON_VERSION_H_
#define SMARTCANARY_COMMON_VERSION_H_

#include <string>

#include "absl/strings/string_view.h"

namespace smartcanary {

// The release in //:VERSION, e.g. "0.1.0": the tag the images carry.
absl::string_view Version();

// The git commit a release build (`bazel build --stamp`, see
// scripts/workspace-status.sh) was made from; "unknown" in other builds,
// which are never stamped so that a commit does not relink every binary.
absl::string_view Revision();

// What `PROGRAM --version` prints: "canaryd 0.1.0 (revision 1a2b...)".
std::string VersionLine(absl::string_view program);

}  // namespace smartcanary

#endif  // SMARTCANARY_COMMON_VERSION_H_
