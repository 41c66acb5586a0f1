#include "controller/kube/kube_config.h"

#include <cstdlib>
#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "yaml-cpp/yaml.h"

namespace smartcanary::kube {
namespace {

YAML::Node FindNamed(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& item : list) {
    if (item["name"] && item["name"].as<std::string>() == name) return item;
  }
  return YAML::Node();
}

// Reads `<key>-data` (base64) or `<key>` (a path relative to the kubeconfig).
absl::StatusOr<std::string> DataOrFile(const YAML::Node& node,
                                       const std::string& key,
                                       const std::filesystem::path& base,
                                       const std::string& where) {
  if (node[key + "-data"]) {
    std::string decoded;
    if (!absl::Base64Unescape(node[key + "-data"].as<std::string>(),
                              &decoded)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".", key, "-data: not valid base64"));
    }
    return decoded;
  }
  if (node[key]) {
    std::filesystem::path path = node[key].as<std::string>();
    if (path.is_relative()) path = base / path;
    return ReadFile(path.string());
  }
  return std::string();
}

}  // namespace

absl::StatusOr<KubeConfig> LoadKubeconfig(const std::string& path,
                                          const std::string& context) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseKubeconfig(*text, path, context);
}

absl::StatusOr<KubeConfig> ParseKubeconfig(const std::string& text,
                                           const std::string& path,
                                           const std::string& context_wanted) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubeconfig ", path, ": ", e.what()));
  }
  const auto base = std::filesystem::path(path).parent_path();
  try {
    const std::string context_name =
        context_wanted.empty() ? root["current-context"].as<std::string>("")
                               : context_wanted;
    const YAML::Node context =
        FindNamed(root["contexts"], context_name)["context"];
    if (!context) {
      return absl::InvalidArgumentError(
          absl::StrCat("kubeconfig ", path, ": ",
                       context_wanted.empty() ? "current-context" : "context",
                       " \"", context_name, "\" is not in contexts"));
    }
    const std::string cluster_name = context["cluster"].as<std::string>("");
    const YAML::Node cluster =
        FindNamed(root["clusters"], cluster_name)["cluster"];
    if (!cluster || !cluster["server"]) {
      return absl::InvalidArgumentError(
          absl::StrCat("kubeconfig ", path, ": cluster \"", cluster_name,
                       "\" has no server"));
    }
    KubeConfig config;
    config.server = cluster["server"].as<std::string>();
    if (cluster["insecure-skip-tls-verify"]) {
      return absl::InvalidArgumentError(
          absl::StrCat("kubeconfig ", path,
                       ": insecure-skip-tls-verify is not supported; "
                       "give certificate-authority(-data)"));
    }
    auto ca = DataOrFile(cluster, "certificate-authority", base, "cluster");
    if (!ca.ok()) return ca.status();
    config.ca_pem = *ca;
    if (context["namespace"])
      config.default_namespace = context["namespace"].as<std::string>();
    const std::string user_name = context["user"].as<std::string>("");
    const YAML::Node user = FindNamed(root["users"], user_name)["user"];
    if (user) {
      if (user["token"]) config.token = user["token"].as<std::string>();
      if (user["tokenFile"]) {
        std::filesystem::path token_file = user["tokenFile"].as<std::string>();
        if (token_file.is_relative()) token_file = base / token_file;
        auto token = ReadSecretFile(token_file.string());
        if (!token.ok()) return token.status();
        config.token = *token;
        config.token_file = token_file.string();
      }
      auto cert = DataOrFile(user, "client-certificate", base, "user");
      if (!cert.ok()) return cert.status();
      config.client_cert_pem = *cert;
      auto key = DataOrFile(user, "client-key", base, "user");
      if (!key.ok()) return key.status();
      config.client_key_pem = *key;
    }
    return config;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubeconfig ", path, ": ", e.what()));
  }
}

absl::StatusOr<KubeConfig> LoadInClusterConfig() {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr) {
    return absl::FailedPreconditionError(
        "not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset); pass "
        "--kubeconfig");
  }
  const std::string dir = "/var/run/secrets/kubernetes.io/serviceaccount/";
  KubeConfig config;
  const std::string host_text = host;
  config.server = absl::StrCat("https://",
                               host_text.find(':') != std::string::npos
                                   ? "[" + host_text + "]"
                                   : host_text,
                               ":", port);
  config.token_file = dir + "token";
  auto token = ReadSecretFile(config.token_file);
  if (!token.ok()) return token.status();
  config.token = *token;
  auto ca = ReadFile(dir + "ca.crt");
  if (!ca.ok()) return ca.status();
  config.ca_pem = *ca;
  if (auto ns = ReadFile(dir + "namespace"); ns.ok()) {
    config.default_namespace = std::string(absl::StripAsciiWhitespace(*ns));
  }
  return config;
}

}  // namespace smartcanary::kube
