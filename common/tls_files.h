#ifndef SMARTCANARY_COMMON_TLS_FILES_H_
#define SMARTCANARY_COMMON_TLS_FILES_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace smartcanary {

// A server's PEM files, each with the flag that named it (for errors).
struct TlsFiles {
  std::string cert_file, cert_flag;
  std::string key_file, key_flag;
  std::string client_ca_file, client_ca_flag;  // optional
};

// gRPC TLS server credentials that re-read the files every `refresh_seconds`
// when they change (cert-manager and the kubelet rotate them in place), so a
// renewed certificate needs no restart. A client certificate, when
// client_ca_file is set, is optional but must chain to that CA.
// INVALID_ARGUMENT naming the flag when a file cannot be read now or holds
// no PEM block.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>>
ReloadingTlsCredentials(const TlsFiles& files, unsigned int refresh_seconds);

}  // namespace smartcanary

#endif  // SMARTCANARY_COMMON_TLS_FILES_H_
