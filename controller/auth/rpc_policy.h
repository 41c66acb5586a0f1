#ifndef SMARTCANARY_CONTROLLER_AUTH_RPC_POLICY_H_
#define SMARTCANARY_CONTROLLER_AUTH_RPC_POLICY_H_

#include <string>

namespace smartcanary::auth {

// The RolloutService's methods, as authorization sees them.
enum class RolloutRpc {
  kGet,
  kWatch,
  kList,
  kStart,
  kPromote,
  kPause,
  kResume,
  kAbort,
  kRetry,
};

// One Kubernetes authorization question: may the caller `verb` the
// `resource`(/`subresource`) of API group smartcanary.dev in `ns`
// (empty: every namespace), object `name` (empty: any)? The
// SubjectAccessReview's resourceAttributes.
struct Access {
  std::string verb;
  std::string resource;
  std::string subresource;
  std::string ns;
  std::string name;

  bool operator==(const Access&) const = default;
};

inline constexpr char kApiGroup[] = "smartcanary.dev";

// What each RPC needs, in the caller's rights on canaryrollouts (the
// kube-rbac-proxy model: the RBAC a team already has decides):
//   GetRollout, WatchRollout (and so `canaryctl status`)  get
//   ListRollouts                                        list
//   StartRollout                 create (rollout absent) / update (present)
//   Promote, Pause, Resume           update canaryrollouts/control
//   Abort, Retry                     update canaryrollouts/abort
// The two subresources exist only as names for RBAC: a CD system may be
// allowed to abort (canaryrollouts/abort) without being able to promote.
// `exists` matters only for kStart.
Access AccessFor(RolloutRpc rpc, const std::string& ns, const std::string& name,
                 bool exists = false);

// "update canaryrollouts/abort in namespace \"a\"" for messages.
std::string Describe(const Access& access);

}  // namespace smartcanary::auth

#endif  // SMARTCANARY_CONTROLLER_AUTH_RPC_POLICY_H_
