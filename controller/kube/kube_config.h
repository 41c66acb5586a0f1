#ifndef SMARTCANARY_CONTROLLER_KUBE_KUBE_CONFIG_H_
#define SMARTCANARY_CONTROLLER_KUBE_KUBE_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"

namespace smartcanary::kube {

// How to reach and authenticate to one API server. PEM blobs, not paths, so
// that kubeconfig `*-data` fields and files are handled the same way.
struct KubeConfig {
  std::string server;  // https://host:port
  std::string ca_pem;  // empty: the system trust store
  std::string token;
  // Where `token` came from, if a file: re-read when it changes, since
  // projected service account tokens rotate.
  std::string token_file;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string default_namespace = "default";
};

// A context of a kubeconfig file: `context`, or the current one when empty.
absl::StatusOr<KubeConfig> LoadKubeconfig(const std::string& path,
                                          const std::string& context = "");
// The same from the file's text; `path` names it in errors and is where
// relative file references resolve from.
absl::StatusOr<KubeConfig> ParseKubeconfig(const std::string& text,
                                           const std::string& path,
                                           const std::string& context = "");

// The pod's service account (KUBERNETES_SERVICE_HOST/PORT, token and CA under
// /var/run/secrets/kubernetes.io/serviceaccount).
absl::StatusOr<KubeConfig> LoadInClusterConfig();

}  // namespace smartcanary::kube

#endif  // SMARTCANARY_CONTROLLER_KUBE_KUBE_CONFIG_H_
