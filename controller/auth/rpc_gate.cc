#include "controller/auth/rpc_gate.h"

#include <grpc/grpc_security_constants.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "controller/auth/client_cert_identity.h"

namespace smartcanary::auth {

std::optional<std::string> BearerToken(absl::string_view header) {
  constexpr absl::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size() ||
      !absl::StartsWithIgnoreCase(header, kScheme))
    return std::nullopt;
  absl::string_view token =
      absl::StripAsciiWhitespace(header.substr(kScheme.size()));
  if (token.empty()) return std::nullopt;
  return std::string(token);
}

RpcGate::RpcGate(const kube::KubeApi& api, TokenReviewerOptions token_options,
                 AccessReviewerOptions access_options)
    : tokens_(std::make_unique<TokenReviewer>(api, token_options)),
      access_(std::make_unique<AccessReviewer>(api, access_options)) {}

std::unique_ptr<RpcGate> RpcGate::AllowAll() {
  return std::unique_ptr<RpcGate>(new RpcGate());
}

absl::StatusOr<Caller> RpcGate::Authenticate(
    const grpc::ServerContext& context) {
  if (tokens_ == nullptr) return Caller{"anonymous-development", "", {}, {}};
  const auto& metadata = context.client_metadata();
  auto header = metadata.find("authorization");
  if (header != metadata.end()) {
    auto token = BearerToken(
        absl::string_view(header->second.data(), header->second.size()));
    if (!token) {
      return absl::UnauthenticatedError(
          "the authorization metadata is not \"Bearer <token>\"");
    }
    return tokens_->Review(*token, absl::Now());
  }
  // A client certificate counts only once TLS has verified it against
  // --grpc-client-ca-file; the property is absent otherwise.
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    auto subjects = auth->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME);
    if (!subjects.empty()) {
      return CallerFromX509Subject(
          absl::string_view(subjects.front().data(), subjects.front().size()));
    }
  }
  return absl::UnauthenticatedError(
      "no credentials: send \"authorization: Bearer <token>\" metadata with a "
      "Kubernetes token (e.g. a service account's), or a client certificate");
}

absl::Status RpcGate::Authorize(const Caller& caller, const Access& access) {
  if (access_ == nullptr) return absl::OkStatus();
  return access_->Review(caller, access, absl::Now());
}

absl::Status RpcGate::Check(const grpc::ServerContext& context,
                            const Access& access) {
  auto caller = Authenticate(context);
  if (!caller.ok()) return caller.status();
  return Authorize(*caller, access);
}

}  // namespace smartcanary::auth
