#ifndef SMARTCANARY_CLI_ARGS_H_
#define SMARTCANARY_CLI_ARGS_H_

#include <map>
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
  bool namespace_set = false;  // -n given: else the kubeconfig's namespace
  std::string output;          // "" or "json"
  std::string file;
  bool full = false;
  absl::Duration timeout = absl::Seconds(60);
  bool help = false;
  bool version = false;  // --version
  // Credentials (credentials.h): the kubeconfig's unless overridden.
  std::string kubeconfig;
  std::string context;
  std::string token;
  std::string token_file;
  std::string certificate_authority;
  std::string tls_server_name;
  bool insecure = false;
  // `backtest`: its valued flags by name (backtest_request.h), and --csv.
  std::map<std::string, std::string> backtest;
  bool csv = false;
};

// `server_default` is the --server value when the flag is absent (from the
// environment).
absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& argv,
                               const std::string& server_default);

extern const char kUsage[];

}  // namespace smartcanary::cli

#endif  // SMARTCANARY_CLI_ARGS_H_
