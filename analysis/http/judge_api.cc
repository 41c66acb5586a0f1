#include "analysis/http/judge_api.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "analysis/http/judge_request.h"
#include "analysis/http/judge_response.h"
#include "google/protobuf/util/time_util.h"
#include "spdlog/spdlog.h"

namespace smartcanary::analysis::http {
namespace {

using google::protobuf::util::TimeUtil;
using smartcanary::http::Request;
using smartcanary::http::Response;

Response Json(int code, std::string body) {
  return {code, "application/json", std::move(body)};
}

Response Error(int code, const std::string& message) {
  return Json(code, ErrorBody(message));
}

// The gRPC side's errors name the metric; here there is one, unnamed.
std::string WithoutMetricName(absl::string_view message) {
  absl::ConsumePrefix(&message, "metric \"http\" provider.");
  return std::string(message);
}

}  // namespace

JudgeApi::JudgeApi(JudgeApiOptions options) : options_(std::move(options)) {}

smartcanary::http::ServerOptions JudgeServerOptions() {
  smartcanary::http::ServerOptions options;
  options.limits.max_body_bytes = kMaxBodyBytes;
  options.limits.max_headers = 32;
  return options;
}

void JudgeApi::Register(smartcanary::http::HttpServer& server) const {
  server.Handle("/v1/judge", [this](const Request& r) { return Judge(r); });
  server.Handle("/v1/flagger", [this](const Request& r) { return Flagger(r); });
  RegisterMetricsAndHealth(server, options_.metrics);
}

void RegisterMetricsAndHealth(smartcanary::http::HttpServer& server,
                              AnalyzerMetrics* metrics) {
  server.Handle("/metrics", [metrics] {
    return Response{200, "text/plain; version=0.0.4; charset=utf-8",
                    metrics->Render()};
  });
  server.Handle("/healthz", [] { return Response{200, "text/plain", "ok\n"}; });
}

Response JudgeApi::Judge(const Request& request) const {
  return Serve(request, /*flagger=*/false);
}

Response JudgeApi::Flagger(const Request& request) const {
  return Serve(request, /*flagger=*/true);
}

// The exception boundary: whatever a request holds, it gets an answer and
// the analyzer keeps serving the others.
Response JudgeApi::Serve(const Request& request, bool flagger) const {
  Response response;
  try {
    response = ServeUnguarded(request, flagger);
  } catch (const std::exception& e) {
    response = Error(500, absl::StrCat("internal error: ", e.what()));
  } catch (...) {
    response = Error(500, "internal error");
  }
  options_.metrics->Request("http", request.path, absl::StrCat(response.code));
  return response;
}

Response JudgeApi::ServeUnguarded(const Request& request, bool flagger) const {
  if (request.method != "POST")
    return Error(405, absl::StrCat(request.path, " takes POST"));
  if (options_.token != nullptr) {
    constexpr absl::string_view kBearer = "Bearer ";
    auto header = request.headers.find("authorization");
    if (header == request.headers.end() ||
        !absl::StartsWith(header->second, kBearer) ||
        !ConstantTimeEquals(
            absl::string_view(header->second).substr(kBearer.size()),
            options_.token->Current())) {
      return Error(401,
                   "send the analyzer's HTTP token as `Authorization: Bearer "
                   "<token>`");
    }
  }
  auto parsed = flagger ? ParseFlaggerWebhook(request.body)
                        : ParseJudgeRequest(request.body);
  if (!parsed.ok()) return Error(400, std::string(parsed.status().message()));
  // The same checks as the gRPC Validate: the address against
  // --allowed-prometheus, credential files under --credentials-dir.
  v1::AnalyzeRequest analyze;
  *analyze.add_metrics() = parsed->metric;
  if (absl::Status s = ValidateMetrics(analyze, options_.config); !s.ok())
    return Error(400, WithoutMetricName(s.message()));
  const absl::Time end = absl::Now();
  const absl::Time start = end - parsed->window;
  v1::RolloutContext context;
  *context.mutable_analysis_started_at() =
      TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(start));
  if (parsed->canary_weight) {
    v1::WeightChange* change = context.add_weight_timeline();
    *change->mutable_at() = *context.mutable_analysis_started_at();
    change->set_canary_weight(*parsed->canary_weight);
  }
  const std::function<bool()> cancelled =
      options_.stopping ? options_.stopping : [] { return false; };
  const ComparativeVerdict verdict =
      MeasureComparative(parsed->metric, {}, context, cancelled,
                         options_.config, parsed->canary_weight.has_value());
  JudgeAnswer answer = Answer(*parsed, verdict, start, end,
                              flagger ? Caller::kFlagger : Caller::kArgo);
  options_.metrics->Verdict(request.path,
                            MeasurementPhaseName(verdict.verdict.phase));
  if (flagger) {
    spdlog::info("flagger {} ({}): {}", parsed->caller, parsed->phase,
                 answer.verdict);
  }
  return Json(answer.code,
              answer.body.dump(-1, ' ', false,
                               nlohmann::json::error_handler_t::replace) +
                  "\n");
}

}  // namespace smartcanary::analysis::http
