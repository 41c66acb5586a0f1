#ifndef SMARTCANARY_CONTROLLER_AUTH_RPC_GATE_H_
#define SMARTCANARY_CONTROLLER_AUTH_RPC_GATE_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controller/auth/access_reviewer.h"
#include "controller/auth/caller.h"
#include "controller/auth/rpc_policy.h"
#include "controller/auth/token_reviewer.h"
#include "controller/kube/kube_api.h"

namespace smartcanary::auth {

// Who may call the RolloutService. Authentication: the `authorization:
// Bearer <token>` metadata, checked with TokenReview; else a client
// certificate verified by the TLS layer (CN user, O groups). Authorization:
// a SubjectAccessReview of that identity for the RPC's Access (see
// rpc_policy.h). Thread-safe.
class RpcGate {
 public:
  // Checks with the API server `api` (canaryd's own client: its service
  // account needs create on tokenreviews and subjectaccessreviews).
  explicit RpcGate(const kube::KubeApi& api,
                   TokenReviewerOptions token_options = {},
                   AccessReviewerOptions access_options = {});
  // Lets every call through: --grpc-auth=none, local development only.
  static std::unique_ptr<RpcGate> AllowAll();

  // UNAUTHENTICATED without valid credentials, UNAVAILABLE when the API
  // server cannot be asked.
  absl::StatusOr<Caller> Authenticate(const grpc::ServerContext& context);
  // OK, PERMISSION_DENIED naming user, verb, resource and namespace, or
  // UNAVAILABLE.
  absl::Status Authorize(const Caller& caller, const Access& access);
  // Both.
  absl::Status Check(const grpc::ServerContext& context, const Access& access);

 private:
  RpcGate() = default;
  std::unique_ptr<TokenReviewer> tokens_;
  std::unique_ptr<AccessReviewer> access_;
};

// The token of an "authorization: Bearer <token>" value; nullopt when the
// value is not of that form.
std::optional<std::string> BearerToken(absl::string_view header);

}  // namespace smartcanary::auth

#endif  // SMARTCANARY_CONTROLLER_AUTH_RPC_GATE_H_
