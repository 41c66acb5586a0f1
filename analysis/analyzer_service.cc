#include "analysis/analyzer_service.h"

#include <cmath>
#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "analysis/backtest_proto.h"
#include "analysis/comparative.h"
#include "analysis/condition.h"
#include "analysis/counter_rate.h"
#include "analysis/histogram_judge.h"
#include "analysis/history_tiers.h"
#include "analysis/measurement.h"
#include "analysis/preflight.h"
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
    if (IsLatencyHistogram(*provider)) {
      if (auto s = CheckHistogramBuckets(provider->istio()); !s.ok())
        return fail("provider.comparative", s);
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

// One counter query over [start, end] at `step`, its series summed.
absl::StatusOr<CounterSamples> SampleCounter(const PrometheusClient& prometheus,
                                             const std::string& query,
                                             absl::Time start, absl::Time end,
                                             absl::Duration step) {
  auto series = prometheus.QueryRange(query, start, end, step);
  if (!series.ok()) return series.status();
  CounterSamples samples;
  for (const Series& one : *series) {
    for (const auto& [at, value] : one.points) {
      if (!std::isnan(value)) samples[absl::ToUnixSeconds(at)] += value;
    }
  }
  return samples;
}

// One tier's intervals: each counter is one range query at the tier's step.
absl::StatusOr<std::vector<TimedInterval>> TierIntervals(
    const PrometheusClient& prometheus, const CounterQueries& queries,
    const std::vector<std::pair<absl::Time, int>>& weights,
    const HistoryTier& tier) {
  CounterSamples samples[4];
  const std::string* texts[4] = {
      &queries.canary_events, &queries.canary_requests,
      &queries.baseline_events, &queries.baseline_requests};
  for (int i = 0; i < 4; ++i) {
    auto sampled =
        SampleCounter(prometheus, *texts[i], tier.start, tier.end(), tier.step);
    if (!sampled.ok()) return sampled.status();
    samples[i] = *std::move(sampled);
  }
  std::vector<TimedInterval> out;
  int64_t end = absl::ToUnixSeconds(tier.start);
  for (const stats::IntervalCounts& counts :
       ToIntervals(samples[0], samples[1], samples[2], samples[3], weights,
                   tier.start, tier.step, tier.intervals)) {
    end += absl::ToInt64Seconds(tier.step);
    out.push_back({end, counts});
  }
  return out;
}

std::vector<std::pair<absl::Time, int>> WeightsOf(
    const google::protobuf::RepeatedPtrField<v1::WeightChange>& timeline) {
  std::vector<std::pair<absl::Time, int>> weights;
  for (const v1::WeightChange& change : timeline) {
    weights.emplace_back(
        absl::FromUnixMillis(TimeUtil::TimestampToMilliseconds(change.at())),
        change.canary_weight());
  }
  return weights;
}

// The four counters over [start, end] cut as a live rollout's are: at the
// provider's resolution, coarser for a long bake's later tiers
// (history_tiers.h), one range query per tier and counter.
struct History {
  std::vector<TimedInterval> intervals;
  absl::Duration last_step;
};
absl::StatusOr<History> FetchHistory(
    const v1::ComparativeProvider& provider,
    const std::vector<std::pair<absl::Time, int>>& weights, absl::Time start,
    absl::Time end, const std::function<bool()>& cancelled,
    const AnalyzerConfig& config) {
  const absl::Duration step =
      absl::Seconds(std::max(1, provider.resolution_seconds()));
  start = absl::FromUnixSeconds(absl::ToUnixSeconds(start));
  const std::vector<HistoryTier> tiers = HistoryTiers(start, end, step);
  History out{{}, step};
  if (tiers.empty()) return out;
  PrometheusOptions options = OptionsOf(provider.prometheus(), config,
                                        "provider.comparative.prometheus");
  options.cancelled = cancelled;
  PrometheusClient prometheus(options);
  const CounterQueries queries = QueriesFor(provider);
  for (const HistoryTier& tier : tiers) {
    auto part = TierIntervals(prometheus, queries, weights, tier);
    if (!part.ok()) return part.status();
    out.intervals.insert(out.intervals.end(), part->begin(), part->end());
  }
  out.last_step = tiers.back().step;
  return out;
}

// latency-histogram: each boundary's counters through the same history path,
// judged together within the metric's one alpha share.
ComparativeVerdict MeasureHistogram(
    const v1::ComparativeProvider& provider,
    const std::vector<std::pair<absl::Time, int>>& weights, absl::Time start,
    const std::function<bool()>& cancelled, const AnalyzerConfig& config,
    bool check_routing) {
  ComparativeVerdict out;
  if (auto s = CheckHistogramBuckets(provider.istio()); !s.ok()) {
    out.verdict = {MeasurementPhase::kError, {}, std::string(s.message())};
    return out;
  }
  const absl::Time end = absl::Now();  // one end for every boundary
  std::vector<std::vector<stats::IntervalCounts>> per_boundary;
  absl::Duration step;
  for (const v1::ComparativeProvider& one : BoundaryProviders(provider)) {
    auto history = FetchHistory(one, weights, start, end, cancelled, config);
    if (!history.ok()) {
      out.verdict = {MeasurementPhase::kError,
                     {},
                     std::string(history.status().message())};
      return out;
    }
    if (history->intervals.empty()) {
      out.verdict = {MeasurementPhase::kInconclusive,
                     {},
                     "no data: the first interval has not closed yet"};
      return out;
    }
    per_boundary.emplace_back();
    for (const TimedInterval& t : history->intervals)
      per_boundary.back().push_back(t.counts);
    step = history->last_step;
  }
  const std::vector<double> boundaries(
      provider.istio().latency_buckets_ms().begin(),
      provider.istio().latency_buckets_ms().end());
  return JudgeHistogram(
      per_boundary, boundaries,
      provider.alpha() / std::max(1, provider.budget_share()),
      provider.margin(), step,
      provider.max_burst() > 0 ? provider.max_burst() : stats::kDefaultMaxBurst,
      check_routing);
}

}  // namespace

ComparativeVerdict MeasureComparative(
    const v1::Metric& metric, const std::map<std::string, std::string>& args,
    const v1::RolloutContext& context, const std::function<bool()>& cancelled,
    const AnalyzerConfig& config, bool check_routing) {
  const v1::ComparativeProvider provider =
      *SubstituteArgs(metric.comparative(), args);
  const std::vector<std::pair<absl::Time, int>> weights =
      WeightsOf(context.weight_timeline());
  // Counts since the canary first took traffic in this rollout.
  absl::Time start = absl::FromUnixMillis(
      TimeUtil::TimestampToMilliseconds(context.analysis_started_at()));
  for (size_t i = 0; i < weights.size(); ++i) {
    if (weights[i].second > 0) {
      start = weights[i].first;
      break;
    }
  }
  start = absl::FromUnixSeconds(absl::ToUnixSeconds(start));
  if (IsLatencyHistogram(provider)) {
    return MeasureHistogram(provider, weights, start, cancelled, config,
                            check_routing);
  }
  auto history =
      FetchHistory(provider, weights, start, absl::Now(), cancelled, config);
  if (!history.ok()) {
    ComparativeVerdict out;
    out.verdict = {
        MeasurementPhase::kError, {}, std::string(history.status().message())};
    return out;
  }
  if (history->intervals.empty()) {
    ComparativeVerdict out;
    out.verdict = {MeasurementPhase::kInconclusive,
                   {},
                   "no data: the first interval has not closed yet"};
    return out;
  }
  std::vector<stats::IntervalCounts> intervals;
  for (const TimedInterval& t : history->intervals)
    intervals.push_back(t.counts);
  const double budget = std::max(1, provider.budget_share());
  return JudgeComparative(
      intervals, provider.alpha() / budget, provider.margin(),
      history->last_step, absl::Seconds(context.planned_pause_seconds()),
      absl::FromUnixSeconds(history->intervals.back().end_seconds) - start,
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

grpc::Status AnalyzerService::BacktestUnguarded(
    grpc::ServerContext* context, const v1::BacktestRequest* request,
    v1::BacktestResponse* response) {
  auto invalid = [](const absl::Status& status) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        std::string(status.message()));
  };
  auto params = ParamsOf(*request);
  if (!params.ok()) return invalid(params.status());
  std::vector<TimedInterval> intervals;
  if (request->has_counts()) {
    intervals = IntervalsOf(request->counts());
  } else if (request->has_range()) {
    const v1::BacktestRange& range = request->range();
    // The same checks as a rollout's metric: address allowlist, credential
    // directory, args.
    v1::Metric metric;
    metric.set_name("backtest");
    *metric.mutable_comparative() = range.provider();
    std::map<std::string, std::string> args;
    for (const v1::Arg& arg : range.args()) args[arg.name()] = arg.value();
    if (auto resolved = Resolve(metric, args, config_); !resolved.ok())
      return invalid(resolved.status());
    // Backtest replays one event series; a histogram is many.
    if (IsLatencyHistogram(range.provider())) {
      return invalid(absl::InvalidArgumentError(
          "range.provider.istio.event: latency-histogram is not replayed by "
          "backtest; give slower-than with one latencyObjectiveMs"));
    }
    if (range.weight_timeline().empty()) {
      return invalid(absl::InvalidArgumentError(
          "range.weight_timeline: give at least one weight change (the "
          "canary's configured weight over the range)"));
    }
    const absl::Time start =
        absl::FromUnixMillis(TimeUtil::TimestampToMilliseconds(range.start()));
    const absl::Time end =
        absl::FromUnixMillis(TimeUtil::TimestampToMilliseconds(range.end()));
    if (end <= start)
      return invalid(
          absl::InvalidArgumentError("range.end: must be after range.start"));
    auto history = FetchHistory(
        *SubstituteArgs(range.provider(), args),
        WeightsOf(range.weight_timeline()), start, end,
        [context] { return context->IsCancelled(); }, config_);
    if (!history.ok()) {
      return grpc::Status(
          grpc::StatusCode::UNAVAILABLE,
          SanitizeAndCap(history.status().message(), kMaxMessageBytes));
    }
    intervals = std::move(history->intervals);
    if (intervals.empty()) {
      return invalid(absl::InvalidArgumentError(
          "range: shorter than one interval of the provider's resolution"));
    }
  } else {
    return invalid(absl::InvalidArgumentError("give counts or range to judge"));
  }
  auto result = RunBacktest(intervals, *params);
  if (!result.ok()) return invalid(result.status());
  *response = ResponseOf(*result);
  return grpc::Status::OK;
}

grpc::Status AnalyzerService::PreflightUnguarded(
    grpc::ServerContext* context, const v1::PreflightRequest* request,
    v1::PreflightResponse* response) {
  auto invalid = [](const std::string& message) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
  };
  const v1::Metric& metric = request->metric();
  if (!metric.has_comparative())
    return invalid(
        "metric.provider.comparative: pre-flight needs a comparative metric");
  std::map<std::string, std::string> args;
  for (const v1::Arg& arg : request->args()) args[arg.name()] = arg.value();
  if (auto resolved = Resolve(metric, args, config_); !resolved.ok())
    return invalid(std::string(resolved.status().message()));
  if (IsLatencyHistogram(metric.comparative())) {
    return invalid(
        "metric.provider.comparative.istio.event: pre-flight needs one event "
        "rate; give slower-than with one latencyObjectiveMs");
  }
  if (request->window_seconds() < 0)
    return invalid("window_seconds: must not be negative");
  const absl::Duration window = request->window_seconds() > 0
                                    ? absl::Seconds(request->window_seconds())
                                    : absl::Minutes(10);
  const v1::ComparativeProvider provider =
      *SubstituteArgs(metric.comparative(), args);
  PreflightInput in;
  for (int i = 0; i < request->plan_size(); ++i) {
    const v1::PlanStep& step = request->plan(i);
    if (step.canary_weight() < 0 || step.canary_weight() > 100)
      return invalid(
          absl::StrCat("plan[", i, "].canary_weight: must be in 0..100"));
    if (step.duration_seconds() < 0)
      return invalid(
          absl::StrCat("plan[", i, "].duration_seconds: must not be negative"));
    in.plan.push_back({step.canary_weight() / 100.0,
                       step.until_promoted()
                           ? absl::InfiniteDuration()
                           : absl::Seconds(step.duration_seconds())});
  }
  PrometheusOptions options = OptionsOf(provider.prometheus(), config_,
                                        "provider.comparative.prometheus");
  options.cancelled = [context] { return context->IsCancelled(); };
  PrometheusClient prometheus(options);
  const CounterQueries queries = QueriesFor(provider);
  const absl::Time end =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  const absl::Duration step =
      absl::Seconds(std::max(1, provider.resolution_seconds()));
  std::optional<double> rates[3];
  const std::string* texts[3] = {&queries.baseline_requests,
                                 &queries.baseline_events,
                                 &queries.canary_requests};
  for (int i = 0; i < 3; ++i) {
    auto samples =
        SampleCounter(prometheus, *texts[i], end - window, end, step);
    if (!samples.ok()) {
      return grpc::Status(
          grpc::StatusCode::UNAVAILABLE,
          SanitizeAndCap(samples.status().message(), kMaxMessageBytes));
    }
    rates[i] = CounterRate(*samples);
  }
  if (!rates[0] || *rates[0] <= 0) {
    return grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        absl::StrCat("no data: the baseline served no requests in the last ",
                     absl::FormatDuration(window),
                     " (its requests query has fewer than two samples or no "
                     "increase)"));
  }
  // No events series beside live requests is zero events; a canary not
  // yet deployed serves nothing.
  in.requests_per_second = *rates[0] + rates[2].value_or(0);
  in.error_rate = std::min(1.0, rates[1].value_or(0) / *rates[0]);
  in.margin = provider.margin();
  in.alpha = provider.alpha() / std::max(1, provider.budget_share());
  in.max_burst =
      provider.max_burst() > 0 ? provider.max_burst() : stats::kDefaultMaxBurst;
  in.interval = step;
  auto result = analysis::Preflight(in);
  if (!result.ok())
    return invalid(absl::StrCat("metric \"", metric.name(),
                                "\" provider.comparative.",
                                result.status().message()));
  auto seconds = [](absl::Duration d) -> int64_t {
    return d == absl::InfiniteDuration()
               ? -1
               : static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(d)));
  };
  response->set_requests_per_second(in.requests_per_second);
  response->set_error_rate(in.error_rate);
  response->set_regression_seconds(seconds(result->regression_detected));
  response->set_not_worse_seconds(seconds(result->not_worse_proven));
  response->set_plan_seconds(seconds(result->plan_length));
  response->set_regression_within_plan(result->regression_within_plan);
  response->set_not_worse_within_plan(result->not_worse_within_plan);
  response->set_message(SanitizeAndCap(result->message, kMaxMessageBytes));
  return grpc::Status::OK;
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
    out->set_phase(PhaseOf(verdict.phase));
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

grpc::Status AnalyzerService::Backtest(grpc::ServerContext* context,
                                       const v1::BacktestRequest* request,
                                       v1::BacktestResponse* response) {
  return Guarded("Backtest", [&] {
    response->Clear();
    return BacktestUnguarded(context, request, response);
  });
}

grpc::Status AnalyzerService::Preflight(grpc::ServerContext* context,
                                        const v1::PreflightRequest* request,
                                        v1::PreflightResponse* response) {
  return Guarded("Preflight", [&] {
    response->Clear();
    return PreflightUnguarded(context, request, response);
  });
}

grpc::Status AnalyzerService::Validate(grpc::ServerContext* context,
                                       const v1::AnalyzeRequest* request,
                                       v1::ValidateResponse* response) {
  return Guarded("Validate",
                 [&] { return ValidateUnguarded(context, request, response); });
}

}  // namespace smartcanary::analysis
