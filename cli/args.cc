#include "cli/args.h"

#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cli/backtest_request.h"

namespace smartcanary::cli {

const char kUsage[] = R"(canaryctl: drive Smart Canary rollouts over gRPC.

Usage: canaryctl COMMAND [NAME] [flags]

Commands:
  start -f FILE          create a rollout or update its spec (a CanaryRollout YAML)
  get NAME               status and steps as a tree (-o json for scripts)
  list                   every rollout in the namespace (-o json for scripts)
  watch NAME             print the rollout on every change until it completes
  promote NAME [--full]  end the current pause (--full: skip all remaining steps)
  abort NAME             return all traffic to stable at once (phase Degraded)
  retry NAME             restart a Degraded rollout from step 1
  pause NAME             hold the rollout where it is
  resume NAME            release a hold made by pause
  status NAME [--timeout 60s]
                         wait for the end: exit 0 Healthy, 1 Degraded, 2 timeout
  backtest --csv < FILE  run the analyzer's judge over per-interval counts:
                         interval_end_seconds,canary_events,canary_requests,
                         baseline_events,baseline_requests,configured_canary_share
  backtest --prometheus URL --start T [--end T] --weights W ...
                         run it over a past time range in Prometheus
                         (docs/BACKTEST.md lists every flag)

Flags:
  --server ADDR          canaryd's gRPC address (env SMARTCANARY_SERVER; default localhost:9090)
  -n, --namespace NS     namespace (default "default")
  -o, --output json      machine-readable output for get and list
  -f, --filename FILE    manifest for start ("-" reads standard input)
  --version              print the version and source revision

Credentials (like kubectl: canaryd checks them against the cluster's RBAC):
  --kubeconfig FILE      kubeconfig (default $KUBECONFIG, else ~/.kube/config);
                         its token (token, tokenFile), client certificate and
                         certificate-authority are used, and its namespace
                         when -n is not given
  --context NAME         kubeconfig context (default: current-context)
  --token TOKEN          bearer token instead of the kubeconfig's
  --token-file FILE      bearer token read from FILE
  --certificate-authority FILE
                         CA that signed canaryd's certificate (default: the
                         kubeconfig's, else the system's trust store)
  --tls-server-name NAME name canaryd's certificate must carry (default: the
                         --server host), e.g. through a port-forward
  --insecure             plaintext, no TLS: local development only

backtest talks to the analyzer, not canaryd: --analyzer ADDR (env
SMARTCANARY_ANALYZER; default localhost:9091) with the analyzer's shared
token in --token-file (or --token), its CA in --certificate-authority, or
--insecure; the kubeconfig is not read.
)";

absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& argv,
                               const std::string& server_default) {
  Args args;
  args.server = server_default;
  std::map<std::string, std::string*> valued = {
      {"--server", &args.server},
      {"--kubeconfig", &args.kubeconfig},
      {"--context", &args.context},
      {"--token", &args.token},
      {"--token-file", &args.token_file},
      {"--certificate-authority", &args.certificate_authority},
      {"--tls-server-name", &args.tls_server_name},
      {"-n", &args.namespace_name},
      {"--namespace", &args.namespace_name},
      {"-o", &args.output},
      {"--output", &args.output},
      {"-f", &args.file},
      {"--filename", &args.file}};
  std::string timeout_text;
  valued["--timeout"] = &timeout_text;
  for (const char* name : kBacktestFlags) valued[name] = &args.backtest[name];
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      args.help = true;
      continue;
    }
    if (arg == "--version") {
      args.version = true;
      continue;
    }
    if (arg == "--full") {
      args.full = true;
      continue;
    }
    if (arg == "--insecure") {
      args.insecure = true;
      continue;
    }
    if (arg == "--csv") {
      args.csv = true;
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-' && arg != "-") {
      std::string value;
      const size_t equals = arg.find('=');
      const bool inline_value = equals != std::string::npos;
      if (inline_value) {
        value = arg.substr(equals + 1);
        arg = arg.substr(0, equals);
      }
      auto flag = valued.find(arg);
      if (flag == valued.end()) {
        return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg));
      }
      if (!inline_value) {
        if (i + 1 >= argv.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat("flag ", arg, " needs a value"));
        }
        value = argv[++i];
      }
      *flag->second = value;
      if (flag->second == &args.namespace_name) args.namespace_set = true;
      continue;
    }
    if (args.command.empty()) {
      args.command = arg;
    } else {
      args.positional.push_back(arg);
    }
  }
  if (!args.output.empty() && args.output != "json") {
    return absl::InvalidArgumentError(absl::StrCat(
        "-o: unsupported output \"", args.output, "\" (supported: json)"));
  }
  if (!timeout_text.empty() &&
      (!absl::ParseDuration(timeout_text, &args.timeout) ||
       args.timeout <= absl::ZeroDuration())) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout: \"", timeout_text,
                     "\" is not a duration such as 60s or 5m"));
  }
  if (args.namespace_name.empty())
    return absl::InvalidArgumentError("-n: must not be empty");
  return args;
}

}  // namespace smartcanary::cli
