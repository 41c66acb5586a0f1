#ifndef SMARTCANARY_CONTROLLER_ROLLOUT_SERVICE_H_
#define SMARTCANARY_CONTROLLER_ROLLOUT_SERVICE_H_

#include <functional>
#include <string>

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
class RolloutServiceImpl final : public v1::RolloutService::Service {
 public:
  // Reconcile this rollout again after `delay`.
  using Trigger = std::function<void(
      const std::string& ns, const std::string& name, absl::Duration delay)>;

  RolloutServiceImpl(const kube::KubeApi& client, Reconciler& reconciler,
                     Trigger trigger, std::string default_namespace,
                     LeaderForwarder* forwarder = nullptr);

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
  grpc::Status RunCommand(const v1::RolloutRef& ref, Command command,
                          v1::Rollout* out);
  std::string NamespaceOf(const std::string& requested) const;
  // StartRollout's reply carries the advice about the spec's analyses.
  void AddSubmitWarnings(const std::string& ns, const RolloutSpec& spec,
                         v1::Rollout* out) const;

  const kube::KubeApi& client_;
  Reconciler& reconciler_;
  Trigger trigger_;
  std::string default_namespace_;
  // Set with several replicas: a standby passes writes to the leader.
  LeaderForwarder* forwarder_;
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ROLLOUT_SERVICE_H_
