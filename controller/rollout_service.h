#ifndef SMARTCANARY_CONTROLLER_ROLLOUT_SERVICE_H_
#define SMARTCANARY_CONTROLLER_ROLLOUT_SERVICE_H_

#include <functional>
#include <string>

#include "controller/auth/rpc_gate.h"
#include "controller/auth/rpc_policy.h"
#include "controller/kube/kube_api.h"
#include "controller/leader_forwarder.h"
#include "controller/reconciler.h"
#include "controller/state_machine.h"
#include "smartcanary/v1/rollout.grpc.pb.h"

namespace smartcanary {

// gRPC RolloutService. Every call reads or writes the CanaryRollout object.
// Commands go through the Reconciler under the rollout's lock, so they take
// effect on traffic before the reply (an abort replies only once the
// VirtualService shows stable 100), whatever analysis is in flight. A
// refused command writes nothing.
//
// Every call is authenticated and authorized by `gate` before anything
// else (rpc_policy.h says which right each method needs), on the namespace
// it names; a canaryd bound to one namespace serves only that one. No
// exception leaves a handler: it becomes INTERNAL with its message.
struct RolloutServiceOptions {
  // For requests that name no namespace.
  std::string default_namespace;
  // --namespace: the only namespace served (others are PERMISSION_DENIED);
  // empty: all.
  std::string served_namespace;
  // Set with several replicas: a standby passes writes to the leader.
  LeaderForwarder* forwarder = nullptr;
};

class RolloutServiceImpl final : public v1::RolloutService::Service {
 public:
  // Reconcile this rollout again after `delay`.
  using Trigger = std::function<void(
      const std::string& ns, const std::string& name, absl::Duration delay)>;

  RolloutServiceImpl(const kube::KubeApi& client, Reconciler& reconciler,
                     Trigger trigger, auth::RpcGate& gate,
                     RolloutServiceOptions options);

  grpc::Status StartRollout(grpc::ServerContext*,
                            const v1::StartRolloutRequest*,
                            v1::Rollout*) override;
  grpc::Status GetRollout(grpc::ServerContext*, const v1::RolloutRef*,
                          v1::Rollout*) override;
  grpc::Status ListRollouts(grpc::ServerContext*,
                            const v1::ListRolloutsRequest*,
                            v1::ListRolloutsResponse*) override;
  grpc::Status WatchRollout(grpc::ServerContext*, const v1::RolloutRef*,
                            grpc::ServerWriter<v1::RolloutEvent>*) override;
  grpc::Status Promote(grpc::ServerContext*, const v1::PromoteRequest*,
                       v1::Rollout*) override;
  grpc::Status Abort(grpc::ServerContext*, const v1::RolloutRef*,
                     v1::Rollout*) override;
  grpc::Status Retry(grpc::ServerContext*, const v1::RolloutRef*,
                     v1::Rollout*) override;
  grpc::Status Pause(grpc::ServerContext*, const v1::RolloutRef*,
                     v1::Rollout*) override;
  grpc::Status Resume(grpc::ServerContext*, const v1::RolloutRef*,
                      v1::Rollout*) override;

 private:
  // Authenticates and authorizes `rpc` on `ref` (its namespace resolved
  // into `ns`), passes it to the leader if this replica is a standby, else
  // runs `command`.
  template <typename Request>
  grpc::Status RunCommand(grpc::ServerContext* context, const Request& request,
                          const v1::RolloutRef& ref, auth::RolloutRpc rpc,
                          Command command, v1::Rollout* out,
                          grpc::Status (v1::RolloutService::Stub::*method)(
                              grpc::ClientContext*, const Request&,
                              v1::Rollout*));
  grpc::Status StartChecked(grpc::ServerContext* context,
                            const v1::StartRolloutRequest& request,
                            v1::Rollout* out);
  grpc::Status GetChecked(const std::string& ns, const std::string& name,
                          v1::Rollout* out);
  grpc::Status WatchChecked(grpc::ServerContext* context, const std::string& ns,
                            const std::string& name,
                            grpc::ServerWriter<v1::RolloutEvent>* writer);
  // The namespace a request means: its own, else the default; refused
  // when not served or not a valid namespace name.
  absl::StatusOr<std::string> NamespaceOf(const std::string& requested) const;
  // A namespace and rollout name both valid and served, then `rpc`
  // authorized there for the caller.
  absl::StatusOr<std::string> Admit(grpc::ServerContext* context,
                                    const v1::RolloutRef& ref,
                                    auth::RolloutRpc rpc);
  // StartRollout's reply carries the advice about the spec's analyses.
  void AddSubmitWarnings(const std::string& ns, const RolloutSpec& spec,
                         v1::Rollout* out) const;

  const kube::KubeApi& client_;
  Reconciler& reconciler_;
  Trigger trigger_;
  auth::RpcGate& gate_;
  const RolloutServiceOptions options_;
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ROLLOUT_SERVICE_H_
