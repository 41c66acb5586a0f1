#ifndef SMARTCANARY_CLI_CREDENTIALS_H_
#define SMARTCANARY_CLI_CREDENTIALS_H_

#include <string>

#include "absl/status/statusor.h"
#include "cli/args.h"

namespace smartcanary::cli {

// How canaryctl proves who it is to canaryd and checks canaryd's
// certificate. Like kubectl: from the kubeconfig unless flags say
// otherwise.
struct Credentials {
  bool insecure = false;  // plaintext (--insecure)
  std::string ca_pem;     // empty: the system's trust store
  std::string token;      // sent as "authorization: Bearer <token>"
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string server_name;     // --tls-server-name; empty: from --server
  std::string namespace_name;  // the kubeconfig context's, if any
};

// Where to look: `kubeconfig_env` is $KUBECONFIG (its first path when
// several), `home` is $HOME (for ~/.kube/config). A missing default
// kubeconfig is no error (flags may give everything); a --kubeconfig,
// --context, --token-file or --certificate-authority that cannot be read
// is, naming the flag.
absl::StatusOr<Credentials> LoadCredentials(const Args& args,
                                            const std::string& kubeconfig_env,
                                            const std::string& home);

}  // namespace smartcanary::cli

#endif  // SMARTCANARY_CLI_CREDENTIALS_H_
