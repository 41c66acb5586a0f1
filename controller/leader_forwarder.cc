#include "controller/leader_forwarder.h"

#include <chrono>

namespace smartcanary {

LeaderForwarder::LeaderForwarder(LeaderAddress leader)
    : leader_(std::move(leader)),
      dial_([](const std::string& address)
                -> absl::StatusOr<std::shared_ptr<grpc::Channel>> {
        return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
      }) {}

void LeaderForwarder::Prepare(const grpc::ServerContext& in,
                              grpc::ClientContext& out) {
  out.AddMetadata(kForwardedMetadata, "1");
  auto auth = in.client_metadata().find("authorization");
  if (auth != in.client_metadata().end())
    out.AddMetadata("authorization",
                    std::string(auth->second.data(), auth->second.size()));
  // A call without a deadline still must not wait forever on a leader
  // that went away.
  const auto cap = std::chrono::system_clock::now() + std::chrono::seconds(60);
  out.set_deadline(std::min(in.deadline(), cap));
}

absl::StatusOr<std::shared_ptr<v1::RolloutService::Stub>> LeaderForwarder::Stub(
    const std::string& address) {
  absl::MutexLock lock(&mu_);
  if (!stub_ || address_ != address) {
    auto channel = dial_(address);
    if (!channel.ok()) return channel.status();
    address_ = address;
    stub_ = v1::RolloutService::NewStub(*channel);
  }
  return stub_;
}

}  // namespace smartcanary
