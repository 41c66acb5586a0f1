#ifndef SMARTCANARY_CLI_INVOCATION_H_
#define SMARTCANARY_CLI_INVOCATION_H_

#include <string>

#include "absl/strings/string_view.h"

namespace smartcanary::cli {

// The name the user typed: "kubectl canary" when canaryctl runs as the
// kubectl plugin (installed or linked as kubectl-canary, which kubectl
// finds on PATH), else "canaryctl". `argv0` is argv[0].
std::string CommandName(absl::string_view argv0);

// kUsage, naming the command as the user typed it.
std::string UsageAs(absl::string_view command_name);

}  // namespace smartcanary::cli

#endif  // SMARTCANARY_CLI_INVOCATION_H_
