// rpc-server: the demo's gRPC service. --error-fraction makes a share of
// calls fail with UNAVAILABLE and --latency-ms slows every call, so a "bad
// version" can be started next to a good one.
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <mutex>
#include <random>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/flag_names.h"
#include "examples/rpc-server/rpc.grpc.pb.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "gRPC address");
ABSL_FLAG(std::string, version, "v1", "version reported in replies");
ABSL_FLAG(double, error_fraction, 0.0,
          "share of calls that fail with UNAVAILABLE (0..1)");
ABSL_FLAG(int, latency_ms, 0, "added latency per call");

namespace {

class Service final : public demo::v1::RpcServer::Service {
 public:
  Service(std::string version, double error_fraction, int latency_ms)
      : version_(std::move(version)),
        error_fraction_(error_fraction),
        latency_ms_(latency_ms) {}

  grpc::Status SayHello(grpc::ServerContext*,
                        const demo::v1::HelloRequest* request,
                        demo::v1::HelloReply* reply) override {
    if (auto injected = Inject(); !injected.ok()) return injected;
    reply->set_message(absl::StrCat("hello ", request->name()));
    reply->set_version(version_);
    return grpc::Status::OK;
  }

  grpc::Status GetItem(grpc::ServerContext*,
                       const demo::v1::GetItemRequest* request,
                       demo::v1::Item* item) override {
    if (auto injected = Inject(); !injected.ok()) return injected;
    item->set_id(request->id());
    item->set_name(absl::StrCat("item-", request->id()));
    return grpc::Status::OK;
  }

  grpc::Status TestError(grpc::ServerContext*, const demo::v1::HelloRequest*,
                         demo::v1::HelloReply*) override {
    return grpc::Status(grpc::StatusCode::INTERNAL, "TestError always fails");
  }

 private:
  grpc::Status Inject() {
    if (latency_ms_ > 0) absl::SleepFor(absl::Milliseconds(latency_ms_));
    std::lock_guard<std::mutex> lock(mu_);
    if (uniform_(random_) < error_fraction_) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          absl::StrCat(version_, ": injected failure"));
    }
    return grpc::Status::OK;
  }

  std::string version_;
  double error_fraction_;
  int latency_ms_;
  std::mutex mu_;
  std::mt19937_64 random_{std::random_device{}()};
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args = smartcanary::DashedFlagsToAbsl(argc, argv);
  std::vector<char*> absl_argv = smartcanary::ArgvOf(args);
  absl::ParseCommandLine(static_cast<int>(args.size()), absl_argv.data());
  Service service(absl::GetFlag(FLAGS_version),
                  absl::GetFlag(FLAGS_error_fraction),
                  absl::GetFlag(FLAGS_latency_ms));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server || port == 0) {
    spdlog::error("--listen {}: cannot listen", absl::GetFlag(FLAGS_listen));
    return 2;
  }
  spdlog::info("rpc-server {} on :{} (error fraction {}, latency {} ms)",
               absl::GetFlag(FLAGS_version), port,
               absl::GetFlag(FLAGS_error_fraction),
               absl::GetFlag(FLAGS_latency_ms));
  server->Wait();
  return 0;
}
