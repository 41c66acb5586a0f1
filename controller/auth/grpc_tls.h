#ifndef SMARTCANARY_CONTROLLER_AUTH_GRPC_TLS_H_
#define SMARTCANARY_CONTROLLER_AUTH_GRPC_TLS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace smartcanary::auth {

// The RolloutService's transport, from canaryd's --grpc-* flags.
struct ServerTls {
  std::string cert_file;       // PEM chain; with key_file
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // optional: accept client certificates
  bool insecure = false;       // plaintext, local development only
};

// TLS credentials that re-read the certificate, key and client CA files
// (every few seconds, when they change: cert-manager and kubelet rotate
// them in place), or plaintext when `insecure`. INVALID_ARGUMENT naming
// the flag when the combination is wrong or a file cannot be read now.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const ServerTls& tls);

// A channel to another replica's RolloutService (leader forwarding): TLS
// verified with `ca_file` and the certificate's name `server_name` (leaders
// are dialed by pod IP), or plaintext when `ca_file` is empty. UNAVAILABLE
// when the CA file cannot be read.
absl::StatusOr<std::shared_ptr<grpc::Channel>> ReplicaChannel(
    const std::string& address, const std::string& ca_file,
    const std::string& server_name);

}  // namespace smartcanary::auth

#endif  // SMARTCANARY_CONTROLLER_AUTH_GRPC_TLS_H_
