#include "cli/credentials.h"

#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/files.h"
#include "controller/kube/kube_config.h"

namespace smartcanary::cli {
namespace {

// The kubeconfig to read and whether the user named it (then it must be
// readable).
std::pair<std::string, bool> KubeconfigPath(const Args& args,
                                            const std::string& env,
                                            const std::string& home) {
  if (!args.kubeconfig.empty()) return {args.kubeconfig, true};
  if (!env.empty()) {
    std::vector<std::string> paths =
        absl::StrSplit(env, ':', absl::SkipEmpty());
    if (!paths.empty()) return {paths.front(), false};
  }
  if (home.empty()) return {"", false};
  return {home + "/.kube/config", false};
}

absl::StatusOr<std::string> ReadFlagFile(const std::string& flag,
                                         const std::string& path, bool secret) {
  auto text = secret ? ReadSecretFile(path) : ReadFile(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": cannot read ", path, ": ", text.status().message()));
  }
  return *text;
}

}  // namespace

absl::StatusOr<Credentials> LoadCredentials(const Args& args,
                                            const std::string& kubeconfig_env,
                                            const std::string& home) {
  Credentials out;
  out.insecure = args.insecure;
  out.server_name = args.tls_server_name;
  const auto [path, named] = KubeconfigPath(args, kubeconfig_env, home);
  std::error_code error;
  if (!path.empty() && (named || std::filesystem::exists(path, error))) {
    auto config = kube::LoadKubeconfig(path, args.context);
    if (!config.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(args.kubeconfig.empty() ? "kubeconfig" : "--kubeconfig",
                       ": ", config.status().message()));
    }
    out.ca_pem = config->ca_pem;
    out.token = config->token;
    out.client_cert_pem = config->client_cert_pem;
    out.client_key_pem = config->client_key_pem;
    out.namespace_name = config->default_namespace;
  } else if (!args.context.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--context: no kubeconfig to find \"", args.context,
                     "\" in (give --kubeconfig or set KUBECONFIG)"));
  }
  if (!args.token.empty()) {
    out.token = args.token;
  } else if (!args.token_file.empty()) {
    auto token = ReadFlagFile("--token-file", args.token_file, true);
    if (!token.ok()) return token.status();
    out.token = *token;
  }
  if (!args.certificate_authority.empty()) {
    auto ca = ReadFlagFile("--certificate-authority",
                           args.certificate_authority, false);
    if (!ca.ok()) return ca.status();
    out.ca_pem = *ca;
  }
  // A token is the identity when there is one; a client certificate from
  // the kubeconfig would then only risk a handshake canaryd refuses (one
  // not signed by its client CA).
  if (!out.token.empty()) {
    out.client_cert_pem.clear();
    out.client_key_pem.clear();
  }
  return out;
}

}  // namespace smartcanary::cli
