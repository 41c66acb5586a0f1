#include "controller/analysis/analyzer_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace smartcanary {
namespace {

MeasurementPhase FromProto(v1::MeasurementPhase phase) {
  switch (phase) {
    case v1::SUCCESSFUL:
      return MeasurementPhase::kSuccessful;
    case v1::FAILED:
      return MeasurementPhase::kFailed;
    case v1::INCONCLUSIVE:
      return MeasurementPhase::kInconclusive;
    default:
      return MeasurementPhase::kError;
  }
}

}  // namespace

GrpcAnalyzer::GrpcAnalyzer(const std::string& address) : address_(address) {
  grpc::ChannelArguments args;
  // The analyzer may restart at any time; reconnect promptly when it is back.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  stub_ = v1::AnalysisService::NewStub(grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), args));
}

std::vector<NamedMeasurement> GrpcAnalyzer::Measure(
    const std::vector<const MetricSpec*>& metrics,
    const std::map<std::string, std::string>& args,
    const v1::RolloutContext& context, absl::Time now) {
  v1::AnalyzeRequest request;
  int64_t longest_timeout = 30;
  for (const MetricSpec* metric : metrics) {
    *request.add_metrics() = metric->query;
    if (metric->query.prometheus().timeout_seconds() > 0) {
      longest_timeout = std::max<int64_t>(
          longest_timeout, metric->query.prometheus().timeout_seconds());
    }
  }
  for (const auto& [name, value] : args) {
    v1::Arg* arg = request.add_args();
    arg->set_name(name);
    arg->set_value(value);
  }
  *request.mutable_context() = context;
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(longest_timeout + 5));
  v1::AnalyzeResponse response;
  const grpc::Status status = stub_->Analyze(&call, request, &response);
  std::vector<NamedMeasurement> out;
  for (const MetricSpec* metric : metrics) {
    MeasurementRecord record;
    record.at = now;
    record.message = absl::StrCat("analyzer at ", address_,
                                  " unavailable: ", status.error_message());
    if (status.ok()) {
      record.message = "the analyzer returned no measurement for this metric";
      for (const v1::Measurement& m : response.measurements()) {
        if (m.metric() != metric->name) continue;
        record.phase = FromProto(m.phase());
        record.values.assign(m.values().begin(), m.values().end());
        record.message = m.message();
        record.not_worse = m.not_worse();
        record.no_data = m.no_data();
      }
    }
    out.emplace_back(metric->name, record);
  }
  return out;
}

}  // namespace smartcanary
