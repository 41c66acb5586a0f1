#include "controller/auth/grpc_tls.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/tls_files.h"

namespace smartcanary::auth {
namespace {

// How often gRPC looks at the files for a new certificate.
constexpr unsigned int kRefreshSeconds = 5;

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const ServerTls& tls) {
  const bool has_files = !tls.cert_file.empty() || !tls.key_file.empty();
  if (tls.insecure) {
    if (has_files || !tls.client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--grpc-insecure: cannot be combined with --grpc-tls-cert-file, "
          "--grpc-tls-key-file or --grpc-client-ca-file");
    }
    return grpc::InsecureServerCredentials();
  }
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "the RolloutService needs TLS: give --grpc-tls-cert-file and "
        "--grpc-tls-key-file (PEM files; reloaded when they change), or "
        "--grpc-insecure for plaintext in local development only");
  }
  return ReloadingTlsCredentials(
      {tls.cert_file, "--grpc-tls-cert-file", tls.key_file,
       "--grpc-tls-key-file", tls.client_ca_file, "--grpc-client-ca-file"},
      kRefreshSeconds);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> ReplicaChannel(
    const std::string& address, const std::string& ca_file,
    const std::string& server_name) {
  if (ca_file.empty()) {
    return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  }
  // Read at each new channel (a new leader): a rotated CA is picked up then.
  // Never fall back to the system roots, which would trust any public CA.
  auto ca = ReadFile(ca_file);
  if (!ca.ok() || ca->empty()) {
    return absl::UnavailableError(absl::StrCat(
        "--grpc-forward-ca-file: cannot read ", ca_file,
        ca.ok() ? ": empty" : absl::StrCat(": ", ca.status().message())));
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = *ca;
  grpc::ChannelArguments args;
  if (!server_name.empty()) args.SetSslTargetNameOverride(server_name);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

}  // namespace smartcanary::auth
