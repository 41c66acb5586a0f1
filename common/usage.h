#ifndef SMARTCANARY_COMMON_USAGE_H_
#define SMARTCANARY_COMMON_USAGE_H_

#include "absl/strings/string_view.h"

namespace smartcanary {

// Sets what absl's --help and --version print for a daemon, before
// absl::ParseCommandLine: `summary` says what the program is; --help lists
// the flags defined in the program's own files (absl by default lists only
// those of a file named after the binary, so none of ours), --version prints
// VersionLine(program).
void ConfigureUsage(absl::string_view program, absl::string_view summary);

// Whether --help lists the flags of this source file: ours, not absl's own
// (--flagfile, --fromenv...), which --helpfull still lists.
bool IsOwnFlagFile(absl::string_view file);

}  // namespace smartcanary

#endif  // SMARTCANARY_COMMON_USAGE_H_
