#include "common/usage.h"

#include <string>

#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/version.h"

namespace smartcanary {

bool IsOwnFlagFile(absl::string_view file) {
  // Debian's libabsl records its files as "absl/..." or with a build path
  // in front.
  return !absl::StartsWith(file, "absl/") && !absl::StrContains(file, "/absl/");
}

void ConfigureUsage(absl::string_view program, absl::string_view summary) {
  // absl prints the message after "PROGRAM: ".
  absl::SetProgramUsageMessage(absl::StrCat(
      summary, "\n\nUsage: ", program,
      " [flags]\nFlags are written --grpc-listen=ADDR or --grpc_listen=ADDR; "
      "--version prints the version and source revision."));
  absl::FlagsUsageConfig config;
  config.contains_help_flags = IsOwnFlagFile;
  config.contains_helpshort_flags = IsOwnFlagFile;
  config.version_string = [name = std::string(program)] {
    return VersionLine(name) + "\n";
  };
  absl::SetFlagsUsageConfig(config);
}

}  // namespace smartcanary
