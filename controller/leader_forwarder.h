#ifndef SMARTCANARY_CONTROLLER_LEADER_FORWARDER_H_
#define SMARTCANARY_CONTROLLER_LEADER_FORWARDER_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "smartcanary/v1/rollout.grpc.pb.h"

namespace smartcanary {

// Marks a call a standby passed on, so that a replica which is not the
// leader either (leadership moved meanwhile) refuses it instead of passing
// it on again.
inline constexpr char kForwardedMetadata[] = "x-smartcanary-forwarded";

// With several replicas behind one Service, a write RPC may reach a standby;
// it passes the call to the leader's RolloutService and returns the
// leader's answer, so clients never need to know which replica leads.
class LeaderForwarder {
 public:
  // "" when this process leads, else the leader's host:port; an error when
  // no leader is known (the caller gets it, UNAVAILABLE: try again).
  using LeaderAddress = std::function<absl::StatusOr<std::string>()>;
  // A channel to the leader's address: TLS verified against the replicas'
  // CA when the RolloutService runs TLS (auth::ReplicaChannel).
  using Dial = std::function<absl::StatusOr<std::shared_ptr<grpc::Channel>>(
      const std::string& address)>;
  // Plaintext until set_dial.
  explicit LeaderForwarder(LeaderAddress leader);
  // Before the first call.
  void set_dial(Dial dial) { dial_ = std::move(dial); }

  // nullopt: this process leads and handles the call. Otherwise the answer.
  template <typename Request, typename Response>
  std::optional<grpc::Status> Forward(
      grpc::ServerContext* context, const Request& request, Response* response,
      grpc::Status (v1::RolloutService::Stub::*method)(grpc::ClientContext*,
                                                       const Request&,
                                                       Response*)) {
    auto leader = leader_();
    if (!leader.ok()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          std::string(leader.status().message()));
    }
    if (leader->empty()) return std::nullopt;
    if (context->client_metadata().count(kForwardedMetadata) > 0) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "forwarded to a replica that does not lead (the "
                          "leader changed); try again");
    }
    grpc::ClientContext out;
    Prepare(*context, out);
    auto stub = Stub(*leader);
    if (!stub.ok()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          std::string(stub.status().message()));
    }
    return ((**stub).*method)(&out, request, response);
  }

 private:
  // Carries the caller's deadline and bearer token (the leader
  // authenticates and authorizes the call again), and the forwarded mark.
  static void Prepare(const grpc::ServerContext& in, grpc::ClientContext& out);
  absl::StatusOr<std::shared_ptr<v1::RolloutService::Stub>> Stub(
      const std::string& address);

  LeaderAddress leader_;
  Dial dial_;
  absl::Mutex mu_;
  std::string address_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<v1::RolloutService::Stub> stub_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_LEADER_FORWARDER_H_
