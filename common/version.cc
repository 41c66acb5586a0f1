#include "common/version.h"

#include "absl/strings/str_cat.h"

namespace smartcanary {
namespace version_internal {
// Defined in the file common:version_info generates (BUILD.bazel).
extern const char kVersion[];
extern const char kRevision[];
}  // namespace version_internal

absl::string_view Version() { return version_internal::kVersion; }

absl::string_view Revision() { return version_internal::kRevision; }

std::string VersionLine(absl::string_view program) {
  return absl::StrCat(program, " ", Version(), " (revision ", Revision(), ")");
}

}  // namespace smartcanary
