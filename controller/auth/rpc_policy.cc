#include "controller/auth/rpc_policy.h"

#include "absl/strings/str_cat.h"

namespace smartcanary::auth {

Access AccessFor(RolloutRpc rpc, const std::string& ns, const std::string& name,
                 bool exists) {
  Access access{"", "canaryrollouts", "", ns, name};
  switch (rpc) {
    case RolloutRpc::kGet:
    case RolloutRpc::kWatch:
      access.verb = "get";
      break;
    case RolloutRpc::kList:
      access.verb = "list";
      access.name.clear();  // a list is never of one object
      break;
    case RolloutRpc::kStart:
      access.verb = exists ? "update" : "create";
      break;
    case RolloutRpc::kPromote:
    case RolloutRpc::kPause:
    case RolloutRpc::kResume:
      access.verb = "update";
      access.subresource = "control";
      break;
    case RolloutRpc::kAbort:
    case RolloutRpc::kRetry:
      access.verb = "update";
      access.subresource = "abort";
      break;
  }
  return access;
}

std::string Describe(const Access& access) {
  std::string resource = access.resource;
  if (!access.subresource.empty())
    absl::StrAppend(&resource, "/", access.subresource);
  return absl::StrCat(access.verb, " ", resource, ".", kApiGroup,
                      access.ns.empty()
                          ? std::string(" in all namespaces")
                          : absl::StrCat(" in namespace \"", access.ns, "\""));
}

}  // namespace smartcanary::auth
