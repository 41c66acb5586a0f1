#ifndef SMARTCANARY_CONTROLLER_ROLLOUT_SERVICE_H_
#define SMARTCANARY_CONTROLLER_ROLLOUT_SERVICE_H_

#include <functional>
#include <string>

#include "controller/kube/kube_client.h"
#include "controller/reconciler.h"
#include "controller/state_machine.h"
#include "smartcanary/v1/rollout.grpc.pb.h"

namespace smartcanary {

// gRPC RolloutService. Every call reads or writes the CanaryRollout object;
// commands are applied by the pure state machine and written as the
// object's status (resourceVersion-guarded), then the controller is poked to
// move traffic. A refused command writes nothing.
class RolloutServiceImpl final : public v1::RolloutService::Service {
 public:
  using Trigger =
      std::function<void(const std::string& ns, const std::string& name)>;

  RolloutServiceImpl(const kube::KubeClient& client, Reconciler& reconciler,
                     Trigger trigger, std::string default_namespace);

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

  const kube::KubeClient& client_;
  Reconciler& reconciler_;
  Trigger trigger_;
  std::string default_namespace_;
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ROLLOUT_SERVICE_H_
