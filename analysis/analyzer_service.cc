#include "analysis/analyzer_service.h"

#include <cmath>
#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "analysis/comparative.h"
#include "analysis/condition.h"
#include "analysis/history_tiers.h"
#include "analysis/measurement.h"
#include "analysis/prometheus_client.h"
#include "common/utf8.h"
#include "google/protobuf/util/time_util.h"

namespace smartcanary::analysis {
namespace {

using google::protobuf::util::TimeUtil;

constexpr size_t kMaxMessageBytes = 4096;

// A metric with its args substituted and conditions parsed.
struct ResolvedMetric {
  std::string address;
  std::string query;
  std::optional<Condition> success;
  std::optional<Condition> failure;
};

PrometheusOptions OptionsOf(const v1::PrometheusProvider& provider,
                            const AnalyzerConfig& config,
                            const std::string& field);

absl::StatusOr<ResolvedMetric> Resolve(
    const v1::Metric& metric, const std::map<std::string, std::string>& args,
    const AnalyzerConfig& config) {
  auto fail = [&](const std::string& field, const absl::Status& status) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metric \"", metric.name(), "\" ", field, ": ", status.message()));
  };
  if (metric.name().empty())
    return absl::InvalidArgumentError("metrics[].name: is required");
  if (metric.has_comparative()) {
    auto provider = SubstituteArgs(metric.comparative(), args);
    if (!provider.ok()) return fail("provider.comparative", provider.status());
    if (provider->prometheus().address().empty()) {
      return fail("provider.comparative.prometheus.address",
                  absl::InvalidArgumentError("is required"));
    }
    if (auto s = CheckProviderStatically(OptionsOf(
            provider->prometheus(), config, "provider.comparative.prometheus"));
        !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric \"", metric.name(), "\" ", s.message()));
    }
    return ResolvedMetric{provider->prometheus().address(), "", std::nullopt,
                          std::nullopt};
  }
  if (!metric.has_prometheus() || metric.prometheus().query().empty()) {
    return fail("provider.prometheus.query",
                absl::InvalidArgumentError("is required"));
  }
  if (metric.prometheus().address().empty()) {
    return fail("provider.prometheus.address",
                absl::InvalidArgumentError("is required"));
  }
  ResolvedMetric out;
  auto address = SubstituteArgs(metric.prometheus().address(), args);
  if (!address.ok())
    return fail("provider.prometheus.address", address.status());
  out.address = *address;
  PrometheusOptions options =
      OptionsOf(metric.prometheus(), config, "provider.prometheus");
  options.address = out.address;
  if (auto s = CheckProviderStatically(options); !s.ok())
    return absl::InvalidArgumentError(
        absl::StrCat("metric \"", metric.name(), "\" ", s.message()));
  auto query = SubstituteArgs(metric.prometheus().query(), args);
  if (!query.ok()) return fail("provider.prometheus.query", query.status());
  out.query = *query;
  if (metric.success_condition().empty() &&
      metric.failure_condition().empty()) {
    return fail("successCondition",
                absl::InvalidArgumentError(
                    "give a successCondition or a failureCondition"));
  }
  for (auto [field, text, slot] :
       {std::tuple{"successCondition", &metric.success_condition(),
                   &out.success},
        std::tuple{"failureCondition", &metric.failure_condition(),
                   &out.failure}}) {
    if (text->empty()) continue;
    auto substituted = SubstituteArgs(*text, args);
    if (!substituted.ok()) return fail(field, substituted.status());
    auto condition = Condition::Parse(*substituted);
    if (!condition.ok()) return fail(field, condition.status());
    *slot = *condition;
  }
  return out;
}

std::map<std::string, std::string> ArgsOf(const v1::AnalyzeRequest& request) {
  std::map<std::string, std::string> args;
  for (const v1::Arg& arg : request.args()) args[arg.name()] = arg.value();
  return args;
}

PrometheusOptions OptionsOf(const v1::PrometheusProvider& provider,
                            const AnalyzerConfig& config,
                            const std::string& field) {
  PrometheusOptions options;
  options.field = field;
  options.address_policy = config.address_policy;
  options.credentials_dir = config.credentials_dir;
  options.bearer_token = provider.bearer_token();
  options.basic_auth_password = provider.basic_auth_password();
  options.address = provider.address();
  if (provider.timeout_seconds() > 0)
    options.timeout = absl::Seconds(provider.timeout_seconds());
  options.headers.insert(provider.headers().begin(), provider.headers().end());
  options.bearer_token_file = provider.bearer_token_file();
  options.basic_auth_user = provider.basic_auth_user();
  options.basic_auth_password_file = provider.basic_auth_password_file();
  options.ca_file = provider.ca_file();
  options.observe = config.observe_query;
  return options;
}

v1::MeasurementPhase ToProto(MeasurementPhase phase) {
  switch (phase) {
    case MeasurementPhase::kSuccessful:
      return v1::SUCCESSFUL;
    case MeasurementPhase::kFailed:
      return v1::FAILED;
    case MeasurementPhase::kInconclusive:
      return v1::INCONCLUSIVE;
    case MeasurementPhase::kError:
      return v1::ERROR;
  }
  return v1::ERROR;
}

// One tier's intervals: each counter is one range query at the tier's step.
absl::StatusOr<std::vector<stats::IntervalCounts>> TierIntervals(
    const PrometheusClient& prometheus, const CounterQueries& queries,
    const std::vector<std::pair<absl::Time, int>>& weights,
    const HistoryTier& tier) {
  CounterSamples samples[4];
  const std::string* texts[4] = {
      &queries.canary_events, &queries.canary_requests,
      &queries.baseline_events, &queries.baseline_requests};
  for (int i = 0; i < 4; ++i) {
    auto series =
        prometheus.QueryRange(*texts[i], tier.start, tier.end(), tier.step);
    if (!series.ok()) return series.status();
    for (const Series& one : *series) {
      for (const auto& [at, value] : one.points) {
        if (!std::isnan(value)) samples[i][absl::ToUnixSeconds(at)] += value;
      }
    }
  }
  return ToIntervals(samples[0], samples[1], samples[2], samples[3], weights,
                     tier.start, tier.step, tier.intervals);
}

}  // namespace

ComparativeVerdict MeasureComparative(
    const v1::Metric& metric, const std::map<std::string, std::string>& args,
    const v1::RolloutContext& context, const std::function<bool()>& cancelled,
    const AnalyzerConfig& config, bool check_routing) {
  const v1::ComparativeProvider provider =
      *SubstituteArgs(metric.comparative(), args);
  std::vector<std::pair<absl::Time, int>> weights;
  for (const v1::WeightChange& change : context.weight_timeline()) {
    weights.emplace_back(
        absl::FromUnixMillis(TimeUtil::TimestampToMilliseconds(change.at())),
        change.canary_weight());
  }
  // Counts since the canary first took traffic in this rollout.
  absl::Time start = absl::FromUnixMillis(
      TimeUtil::TimestampToMilliseconds(context.analysis_started_at()));
  for (size_t i = 0; i < weights.size(); ++i) {
    if (weights[i].second > 0) {
      start = weights[i].first;
      break;
    }
  }
  const absl::Duration step =
      absl::Seconds(std::max(1, provider.resolution_seconds()));
  start = absl::FromUnixSeconds(absl::ToUnixSeconds(start));
  // A bake of days is cut into tiers of coarser intervals, one range query
  // each, never more than Prometheus' points limit (history_tiers.h).
  const std::vector<HistoryTier> tiers = HistoryTiers(start, absl::Now(), step);
  if (tiers.empty()) {
    ComparativeVerdict out;
    out.verdict = {MeasurementPhase::kInconclusive,
                   {},
                   "no data: the first interval has not closed yet"};
    return out;
  }
  PrometheusOptions options = OptionsOf(provider.prometheus(), config,
                                        "provider.comparative.prometheus");
  options.cancelled = cancelled;
  PrometheusClient prometheus(options);
  const CounterQueries queries = QueriesFor(provider);
  std::vector<stats::IntervalCounts> intervals;
  for (const HistoryTier& tier : tiers) {
    auto part = TierIntervals(prometheus, queries, weights, tier);
    if (!part.ok()) {
      ComparativeVerdict out;
      out.verdict = {
          MeasurementPhase::kError, {}, std::string(part.status().message())};
      return out;
    }
    intervals.insert(intervals.end(), part->begin(), part->end());
  }
  const double budget = std::max(1, provider.budget_share());
  return JudgeComparative(
      intervals, provider.alpha() / budget, provider.margin(),
      tiers.back().step, absl::Seconds(context.planned_pause_seconds()),
      tiers.back().end() - start,
      provider.max_burst() > 0 ? provider.max_burst() : stats::kDefaultMaxBurst,
      check_routing);
}

absl::Status ValidateMetrics(const v1::AnalyzeRequest& request,
                             const AnalyzerConfig& config) {
  const auto args = ArgsOf(request);
  for (const v1::Metric& metric : request.metrics()) {
    if (auto resolved = Resolve(metric, args, config); !resolved.ok())
      return resolved.status();
  }
  return absl::OkStatus();
}

grpc::Status AnalyzerService::ValidateUnguarded(
    grpc::ServerContext*, const v1::AnalyzeRequest* request,
    v1::ValidateResponse*) {
  absl::Status status = ValidateMetrics(*request, config_);
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

grpc::Status AnalyzerService::AnalyzeUnguarded(
    grpc::ServerContext* context, const v1::AnalyzeRequest* request,
    v1::AnalyzeResponse* response) {
  const auto args = ArgsOf(*request);
  // A caller past its deadline, or the analyzer shutting down, ends the
  // Prometheus queries instead of leaving them to their timeout.
  const std::function<bool()> cancelled = [context] {
    return context->IsCancelled();
  };
  for (const v1::Metric& metric : request->metrics()) {
    v1::Measurement* out = response->add_measurements();
    out->set_metric(metric.name());
    *out->mutable_started_at() = TimeUtil::GetCurrentTime();
    Verdict verdict;
    auto resolved = Resolve(metric, args, config_);
    if (resolved.ok() && metric.has_comparative()) {
      const ComparativeVerdict comparative = MeasureComparative(
          metric, args, request->context(), cancelled, config_);
      verdict = comparative.verdict;
      out->set_not_worse(comparative.not_worse);
    } else if (!resolved.ok()) {
      verdict = {MeasurementPhase::kError,
                 {},
                 std::string(resolved.status().message())};
    } else {
      PrometheusOptions options =
          OptionsOf(metric.prometheus(), config_, "provider.prometheus");
      options.address = resolved->address;
      options.cancelled = cancelled;
      PrometheusClient prometheus(options);
      auto samples = prometheus.Query(resolved->query);
      if (samples.ok()) {
        std::vector<double> values;
        for (const Sample& sample : *samples) values.push_back(sample.value);
        verdict = Judge(resolved->success, resolved->failure, values);
      } else {
        verdict = Judge(resolved->success, resolved->failure, samples.status());
      }
    }
    out->set_phase(ToProto(verdict.phase));
    for (double value : verdict.values) out->add_values(value);
    // Proto strings must be UTF-8; a Prometheus answer or a condition may
    // hold anything, and a message only needs to be long enough to read.
    out->set_message(SanitizeAndCap(verdict.message, kMaxMessageBytes));
    out->set_no_data(IsNoDataVerdict(verdict));
    *out->mutable_finished_at() = TimeUtil::GetCurrentTime();
  }
  return grpc::Status::OK;
}

namespace {

// The RPC exception boundary: an exception from any measurement or check
// fails that call with INTERNAL, never the analyzer and its other callers.
grpc::Status Guarded(const char* rpc,
                     const std::function<grpc::Status()>& handler) {
  try {
    return handler();
  } catch (const std::exception& e) {
    return grpc::Status(
        grpc::StatusCode::INTERNAL,
        absl::StrCat(rpc, ": internal error: ",
                     SanitizeAndCap(e.what(), kMaxMessageBytes)));
  } catch (...) {
    return grpc::Status(grpc::StatusCode::INTERNAL,
                        absl::StrCat(rpc, ": internal error"));
  }
}

}  // namespace

grpc::Status AnalyzerService::Analyze(grpc::ServerContext* context,
                                      const v1::AnalyzeRequest* request,
                                      v1::AnalyzeResponse* response) {
  return Guarded("Analyze", [&] {
    response->Clear();  // no half-filled answer with the error
    return AnalyzeUnguarded(context, request, response);
  });
}

grpc::Status AnalyzerService::Validate(grpc::ServerContext* context,
                                       const v1::AnalyzeRequest* request,
                                       v1::ValidateResponse* response) {
  return Guarded("Validate",
                 [&] { return ValidateUnguarded(context, request, response); });
}

}  // namespace smartcanary::analysis
