#include "cli/invocation.h"

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "cli/args.h"

namespace smartcanary::cli {

std::string CommandName(absl::string_view argv0) {
  const size_t slash = argv0.rfind('/');
  const absl::string_view base =
      slash == absl::string_view::npos ? argv0 : argv0.substr(slash + 1);
  // kubectl runs the plugin by its file name, kubectl-canary.
  return absl::StartsWith(base, "kubectl-canary") ? "kubectl canary"
                                                  : "canaryctl";
}

std::string UsageAs(absl::string_view command_name) {
  return absl::StrReplaceAll(kUsage, {{"canaryctl", command_name}});
}

}  // namespace smartcanary::cli
