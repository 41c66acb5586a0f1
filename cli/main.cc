// canaryctl: the command line for people and scripts, a gRPC client of
// canaryd's RolloutService.
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cli/args.h"
#include "cli/backtest_render.h"
#include "cli/backtest_request.h"
#include "cli/credentials.h"
#include "cli/invocation.h"
#include "cli/manifest.h"
#include "cli/render.h"
#include "common/text_escape.h"
#include "common/version.h"
#include "controller/rollout_proto.h"
#include "smartcanary/v1/analysis.grpc.pb.h"
#include "smartcanary/v1/rollout.grpc.pb.h"

namespace smartcanary::cli {
namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
// `status`: 0 Healthy, 1 Degraded, 2 timed out, 3 could not tell.
constexpr int kExitStatusDegraded = 1;
constexpr int kExitStatusTimeout = 2;
constexpr int kExitStatusUnknown = 3;

int Fail(const std::string& message, int code = kExitError) {
  std::cerr << "error: " << EscapeControlCharacters(message) << "\n";
  return code;
}

int FailRpc(const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return Fail(absl::StrCat("canaryd unreachable: ", status.error_message()));
  }
  return Fail(status.error_message());
}

absl::StatusOr<std::string> ReadInput(const std::string& file) {
  std::ostringstream text;
  if (file == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream in(file);
  if (!in) return absl::NotFoundError(absl::StrCat("-f: cannot read ", file));
  text << in.rdbuf();
  return text.str();
}

std::shared_ptr<grpc::Channel> Channel(const std::string& server,
                                       const Credentials& credentials) {
  if (credentials.insecure) {
    return grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = credentials.ca_pem;
  ssl.pem_cert_chain = credentials.client_cert_pem;
  ssl.pem_private_key = credentials.client_key_pem;
  grpc::ChannelArguments channel_args;
  if (!credentials.server_name.empty())
    channel_args.SetSslTargetNameOverride(credentials.server_name);
  return grpc::CreateCustomChannel(server, grpc::SslCredentials(ssl),
                                   channel_args);
}

// `backtest` asks the analyzer, not canaryd, so it authenticates with the
// analyzer's shared token (--token-file) and never sends the kubeconfig's
// credentials to it.
int Backtest(const Args& args) {
  if (!args.kubeconfig.empty() || !args.context.empty())
    return Fail(
        "backtest: talks to the analyzer: give its token with --token-file, "
        "not --kubeconfig or --context",
        kExitUsage);
  auto credentials = LoadCredentials(args, "", "");
  if (!credentials.ok())
    return Fail(std::string(credentials.status().message()), kExitUsage);
  std::string csv;
  if (args.csv) {
    std::ostringstream text;
    text << std::cin.rdbuf();
    csv = text.str();
  }
  auto request = BuildBacktestRequest(args, csv, absl::Now());
  if (!request.ok())
    return Fail(absl::StrCat("backtest: ", request.status().message()),
                kExitUsage);
  std::string server = args.backtest.count("--analyzer") > 0
                           ? args.backtest.at("--analyzer")
                           : "";
  if (server.empty()) {
    const char* env = std::getenv("SMARTCANARY_ANALYZER");
    server = env != nullptr ? env : "localhost:9091";
  }
  auto stub = v1::AnalysisService::NewStub(Channel(server, *credentials));
  grpc::ClientContext context;
  if (!credentials->token.empty())
    context.AddMetadata("authorization", "Bearer " + credentials->token);
  context.set_deadline(
      std::chrono::system_clock::now() +
      std::chrono::milliseconds(absl::ToInt64Milliseconds(args.timeout)));
  v1::BacktestResponse response;
  grpc::Status status = stub->Backtest(&context, *request, &response);
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE)
    return Fail(absl::StrCat("analyzer unreachable at ", server, ": ",
                             status.error_message()));
  if (!status.ok()) return Fail(status.error_message());
  if (args.output == "json") {
    std::cout << RenderJson(BacktestToJson(response)) << "\n";
  } else {
    std::cout << RenderBacktest(response);
  }
  return 0;
}

class Cli {
 public:
  Cli(const Args& args, const Credentials& credentials, std::string usage)
      : args_(args),
        usage_(std::move(usage)),
        token_(credentials.token),
        stub_(v1::RolloutService::NewStub(Channel(args.server, credentials))) {}

  int Run() {
    const std::string& command = args_.command;
    if (command == "start") return Start();
    if (command == "list") return List();
    if (args_.positional.size() != 1) {
      return Fail(absl::StrCat(command, ": needs exactly one rollout NAME"),
                  kExitUsage);
    }
    if (command == "get") return Get();
    if (command == "watch") return Watch();
    if (command == "status") return Status();
    if (command == "promote") {
      v1::PromoteRequest request;
      *request.mutable_rollout() = Ref();
      request.set_full(args_.full);
      return Command([&](grpc::ClientContext* c, v1::Rollout* out) {
        return stub_->Promote(c, request, out);
      });
    }
    using Method = grpc::Status (v1::RolloutService::Stub::*)(
        grpc::ClientContext*, const v1::RolloutRef&, v1::Rollout*);
    const std::map<std::string, Method> commands = {
        {"abort", &v1::RolloutService::Stub::Abort},
        {"retry", &v1::RolloutService::Stub::Retry},
        {"pause", &v1::RolloutService::Stub::Pause},
        {"resume", &v1::RolloutService::Stub::Resume}};
    auto method = commands.find(command);
    if (method == commands.end()) {
      return Fail(absl::StrCat("unknown command \"", command, "\"\n\n", usage_),
                  kExitUsage);
    }
    const v1::RolloutRef ref = Ref();
    return Command([&](grpc::ClientContext* c, v1::Rollout* out) {
      return (stub_.get()->*(method->second))(c, ref, out);
    });
  }

 private:
  v1::RolloutRef Ref() const {
    v1::RolloutRef ref;
    ref.set_namespace_(args_.namespace_name);
    ref.set_name(args_.positional.front());
    return ref;
  }

  // Every call carries the bearer token, if any (over --insecure too: a
  // local canaryd still authenticates).
  void Authenticate(grpc::ClientContext& context) {
    if (!token_.empty())
      context.AddMetadata("authorization", "Bearer " + token_);
  }

  void Deadline(grpc::ClientContext& context,
                absl::Duration after = absl::Seconds(30)) {
    Authenticate(context);
    context.set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::milliseconds(absl::ToInt64Milliseconds(after)));
  }

  void Print(const v1::Rollout& rollout) {
    if (args_.output == "json") {
      std::cout << RenderJson(RolloutToJson(rollout)) << "\n";
    } else {
      std::cout << RenderRolloutTree(rollout);
    }
  }

  template <typename Call>
  int Command(Call call) {
    grpc::ClientContext context;
    Deadline(context);
    v1::Rollout rollout;
    grpc::Status status = call(&context, &rollout);
    if (!status.ok()) return FailRpc(status);
    std::cout << args_.command << ": "
              << EscapeControlCharacters(rollout.namespace_()) << "/"
              << EscapeControlCharacters(rollout.name()) << ": "
              << EscapeControlCharacters(rollout.message()) << "\n";
    return 0;
  }

  int Start() {
    if (args_.file.empty())
      return Fail("start: -f FILE is required", kExitUsage);
    auto text = ReadInput(args_.file);
    if (!text.ok()) return Fail(std::string(text.status().message()));
    auto manifest = ParseManifest(*text);
    if (!manifest.ok())
      return Fail(absl::StrCat(args_.file, ": ", manifest.status().message()));
    v1::StartRolloutRequest request;
    request.set_namespace_(manifest->namespace_name.empty()
                               ? args_.namespace_name
                               : manifest->namespace_name);
    request.set_name(manifest->name);
    *request.mutable_spec() = SpecToProto(manifest->spec);
    grpc::ClientContext context;
    Deadline(context);
    v1::Rollout rollout;
    grpc::Status status = stub_->StartRollout(&context, request, &rollout);
    if (!status.ok()) return FailRpc(status);
    std::cout << "canaryrollout "
              << EscapeControlCharacters(rollout.namespace_()) << "/"
              << EscapeControlCharacters(rollout.name())
              << " accepted (generation " << rollout.generation() << ")\n";
    for (const std::string& warning : rollout.warnings())
      std::cerr << "Warning: " << EscapeControlCharacters(warning) << "\n";
    return 0;
  }

  int Get() {
    grpc::ClientContext context;
    Deadline(context);
    v1::Rollout rollout;
    grpc::Status status = stub_->GetRollout(&context, Ref(), &rollout);
    if (!status.ok()) return FailRpc(status);
    Print(rollout);
    return 0;
  }

  int List() {
    grpc::ClientContext context;
    Deadline(context);
    v1::ListRolloutsRequest request;
    request.set_namespace_(args_.namespace_name);
    v1::ListRolloutsResponse list;
    grpc::Status status = stub_->ListRollouts(&context, request, &list);
    if (!status.ok()) return FailRpc(status);
    if (args_.output == "json") {
      nlohmann::json items = nlohmann::json::array();
      for (const v1::Rollout& rollout : list.rollouts())
        items.push_back(RolloutToJson(rollout));
      std::cout << RenderJson(nlohmann::json{{"items", items}}) << "\n";
    } else {
      std::cout << RenderRolloutTable(list);
    }
    return 0;
  }

  int Watch() {
    grpc::ClientContext context;
    Authenticate(context);
    auto reader = stub_->WatchRollout(&context, Ref());
    v1::RolloutEvent event;
    while (reader->Read(&event)) {
      std::cout << "\033[2J\033[H" << RenderRolloutTree(event.rollout())
                << std::flush;
      if (event.type() == "DELETED") break;
    }
    grpc::Status status = reader->Finish();
    return status.ok() || status.error_code() == grpc::StatusCode::CANCELLED
               ? 0
               : FailRpc(status);
  }

  int Status() {
    grpc::ClientContext context;
    Deadline(context, args_.timeout);
    auto reader = stub_->WatchRollout(&context, Ref());
    v1::RolloutEvent event;
    std::string last_message;
    while (reader->Read(&event)) {
      const v1::Rollout& rollout = event.rollout();
      if (rollout.message() != last_message) {
        std::cout << PhaseText(rollout.phase()) << ": "
                  << EscapeControlCharacters(rollout.message()) << "\n"
                  << std::flush;
        last_message = rollout.message();
      }
      const bool current =
          rollout.observed_generation() == rollout.generation();
      if (current && rollout.phase() == v1::HEALTHY) return 0;
      if (current && rollout.phase() == v1::DEGRADED)
        return kExitStatusDegraded;
    }
    grpc::Status status = reader->Finish();
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      std::cerr << "timed out after " << absl::FormatDuration(args_.timeout)
                << "\n";
      return kExitStatusTimeout;
    }
    if (!status.ok()) FailRpc(status);
    return kExitStatusUnknown;
  }

  const Args& args_;
  const std::string usage_;  // names the command as the user typed it
  const std::string token_;
  std::unique_ptr<v1::RolloutService::Stub> stub_;
};

}  // namespace
}  // namespace smartcanary::cli

int main(int argc, char** argv) {
  using namespace smartcanary::cli;
  const char* env_server = std::getenv("SMARTCANARY_SERVER");
  auto args = ParseArgs(std::vector<std::string>(argv + 1, argv + argc),
                        env_server != nullptr ? env_server : "localhost:9090");
  const std::string name = CommandName(argc > 0 ? argv[0] : "");
  if (!args.ok())
    return Fail(
        absl::StrCat(args.status().message(), " (see ", name, " --help)"), 2);
  if (args->version) {
    std::cout << smartcanary::VersionLine("canaryctl") << "\n";
    return 0;
  }
  if (args->help || args->command.empty()) {
    std::cout << UsageAs(name);
    return args->help ? 0 : 2;
  }
  if (args->command == "backtest") return Backtest(*args);
  const char* kubeconfig = std::getenv("KUBECONFIG");
  const char* home = std::getenv("HOME");
  auto credentials =
      LoadCredentials(*args, kubeconfig ? kubeconfig : "", home ? home : "");
  if (!credentials.ok())
    return Fail(std::string(credentials.status().message()), 2);
  if (!args->namespace_set && !credentials->namespace_name.empty())
    args->namespace_name = credentials->namespace_name;
  return Cli(*args, *credentials, UsageAs(name)).Run();
}
