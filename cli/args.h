#ifndef SMARTCANARY_CLI_ARGS_H_
#define SMARTCANARY_CLI_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace smartcanary::cli {

// canaryctl's command line, kubectl-style: a command, positional arguments
// and flags anywhere (`-n ns`, `--namespace=ns`, `-o json`, `-f file`).
struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::string server;
  std::string namespace_name = "default";
  std::string output;  // "" or "json"
  std::string file;
  bool full = false;
  absl::Duration timeout = absl::Seconds(60);
  bool help = false;
};

// `server_default` is the --server value when the flag is absent (from the
// environment).
absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& argv,
                               const std::string& server_default);

extern const char kUsage[];

}  // namespace smartcanary::cli

#endif  // SMARTCANARY_CLI_ARGS_H_
