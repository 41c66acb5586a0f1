#include "controller/analysis/analyzer_client.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

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

GrpcAnalyzer::GrpcAnalyzer(const std::string& address,
                           GrpcAnalyzerOptions options)
    : address_(address), options_(std::move(options)) {
  grpc::ChannelArguments args;
  // The analyzer may restart at any time; reconnect promptly when it is back.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::InsecureChannelCredentials();
  if (!options_.ca_file.empty()) {
    grpc::experimental::TlsChannelCredentialsOptions tls;
    tls.set_certificate_provider(
        std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
            options_.ca_file, 60));
    tls.watch_root_certs();
    credentials = grpc::experimental::TlsCredentials(tls);
  }
  stub_ = v1::AnalysisService::NewStub(
      grpc::CreateCustomChannel(address, credentials, args));
}

namespace {

// What one call needs to outlive MeasureAsync.
struct PendingCall {
  grpc::ClientContext context;
  v1::AnalyzeRequest request;
  v1::AnalyzeResponse response;
  std::vector<std::string> metrics;
  // Metrics not sent: their Secret could not be read.
  std::map<std::string, std::string> local_errors;
  absl::Time at;
  MeasuredCallback done;
};

std::vector<NamedMeasurement> Results(const PendingCall& call,
                                      const grpc::Status& status,
                                      const std::string& address) {
  std::vector<NamedMeasurement> out;
  for (const std::string& metric : call.metrics) {
    MeasurementRecord record;
    record.at = call.at;
    record.message = absl::StrCat("analyzer at ", address,
                                  " unavailable: ", status.error_message());
    if (auto local = call.local_errors.find(metric);
        local != call.local_errors.end()) {
      record.message = local->second;
    } else if (status.ok()) {
      record.message = "the analyzer returned no measurement for this metric";
      for (const v1::Measurement& m : call.response.measurements()) {
        if (m.metric() != metric) continue;
        record.phase = FromProto(m.phase());
        record.values.assign(m.values().begin(), m.values().end());
        record.message = m.message();
        record.not_worse = m.not_worse();
        record.no_data = m.no_data();
      }
    }
    out.emplace_back(metric, record);
  }
  return out;
}

}  // namespace

void GrpcAnalyzer::MeasureAsync(const std::vector<const MetricSpec*>& metrics,
                                const std::map<std::string, std::string>& args,
                                const v1::RolloutContext& context,
                                absl::Time now, MeasuredCallback done) {
  auto call = std::make_shared<PendingCall>();
  call->at = now;
  call->done = std::move(done);
  absl::Duration longest_timeout = absl::Seconds(30);
  for (const MetricSpec* metric : metrics) {
    call->metrics.push_back(metric->name);
    v1::Metric query = metric->query;
    // Secret values go into this call only, never into the spec or status.
    if (auto s = FillMetricSecrets(context.namespace_(), options_.read_secret,
                                   &query);
        !s.ok()) {
      call->local_errors[metric->name] = std::string(s.message());
      continue;
    }
    *call->request.add_metrics() = std::move(query);
    longest_timeout =
        std::max(longest_timeout,
                 absl::Seconds(metric->query.prometheus().timeout_seconds()));
  }
  for (const auto& [name, value] : args) {
    v1::Arg* arg = call->request.add_args();
    arg->set_name(name);
    arg->set_value(value);
  }
  *call->request.mutable_context() = context;
  const absl::Duration deadline =
      std::min(longest_timeout + absl::Seconds(5), kMaxMeasurementTime);
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  if (options_.token != nullptr) {
    call->context.AddMetadata("authorization",
                              "Bearer " + options_.token->Current());
  }
  stub_->async()->Analyze(&call->context, &call->request, &call->response,
                          [call, address = address_](grpc::Status status) {
                            call->done(Results(*call, status, address));
                          });
}

namespace {

struct PendingPreflight {
  grpc::ClientContext context;
  v1::PreflightRequest request;
  v1::PreflightResponse response;
  PreflightCallback done;
};

}  // namespace

void GrpcAnalyzer::PreflightAsync(
    const MetricSpec& metric, const std::map<std::string, std::string>& args,
    const std::string& ns, std::vector<v1::PlanStep> plan,
    PreflightCallback done) {
  auto call = std::make_shared<PendingPreflight>();
  call->done = std::move(done);
  *call->request.mutable_metric() = metric.query;
  // Secret values go into this call only, never into the spec or status.
  if (auto s = FillMetricSecrets(ns, options_.read_secret,
                                 call->request.mutable_metric());
      !s.ok()) {
    call->done(s);
    return;
  }
  for (const auto& [name, value] : args) {
    v1::Arg* arg = call->request.add_args();
    arg->set_name(name);
    arg->set_value(value);
  }
  for (v1::PlanStep& step : plan) *call->request.add_plan() = std::move(step);
  // Three range queries, like one measurement: the same cap.
  call->context.set_deadline(
      absl::ToChronoTime(absl::Now() + kMaxMeasurementTime));
  if (options_.token != nullptr) {
    call->context.AddMetadata("authorization",
                              "Bearer " + options_.token->Current());
  }
  stub_->async()->Preflight(
      &call->context, &call->request, &call->response,
      [call, address = address_](grpc::Status status) {
        if (status.ok()) {
          call->done(call->response);
          return;
        }
        call->done(absl::UnavailableError(absl::StrCat(
            "analyzer at ", address, " pre-flight: ", status.error_message())));
      });
}

}  // namespace smartcanary
