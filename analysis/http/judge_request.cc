#include "analysis/http/judge_request.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "analysis/prometheus_response.h"
#include "common/utf8.h"
#include "controller/analysis/analysis_spec.h"
#include "controller/analysis/secret_refs.h"
#include "controller/json_fields.h"
#include "controller/rollout_spec.h"
#include "nlohmann/json.hpp"

namespace smartcanary::analysis::http {
namespace {

using json = nlohmann::json;

// Where the template parser's errors for our one metric start; stripped so
// an error names the request's own field (comparative.alpha).
constexpr char kMetricName[] = "http";
constexpr char kMetricPath[] = " spec.metrics[0] (\"http\").provider.";

// JSON nests no deeper than a judge request needs: nlohmann's copies and
// destructors recurse, so a body of 30,000 '[' would exhaust the stack.
constexpr int kMaxDepth = 32;

absl::StatusOr<json> ParseObject(std::string_view body) {
  if (NestingDepth(absl::string_view(body.data(), body.size())) > kMaxDepth) {
    return FieldError("body",
                      absl::StrCat("nests deeper than ", kMaxDepth, " levels"));
  }
  json value = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return FieldError("body", "is not JSON");
  if (!value.is_object()) return FieldError("body", "must be a JSON object");
  return value;
}

// `comparative` through the template parser canaryd uses, so the HTTP API
// takes exactly what a template's provider.comparative takes.
absl::StatusOr<v1::Metric> ParseComparative(const json& comparative) {
  json spec = {{"metrics",
                json::array({{{"name", kMetricName},
                              {"provider", {{"comparative", comparative}}}}})}};
  auto parsed = ParseAnalysisTemplate(spec, "");
  if (!parsed.ok()) {
    std::string message(parsed.status().message());
    if (absl::StartsWith(message, kMetricPath))
      message = message.substr(std::string_view(kMetricPath).size());
    return absl::InvalidArgumentError(message);
  }
  v1::Metric metric = parsed->metrics.front().query;
  // Secrets are read by canaryd from the rollout's namespace; the analyzer
  // has no Kubernetes access, so over HTTP only files (bearerTokenFile,
  // basicAuth.passwordFile under --credentials-dir) can carry credentials.
  auto refuse = [](const std::string&, const std::string&,
                   const std::string&) -> absl::StatusOr<std::string> {
    return absl::InvalidArgumentError(
        "secretKeyRef is not read over HTTP: use bearerTokenFile or "
        "basicAuth.passwordFile under the analyzer's --credentials-dir");
  };
  if (auto s = FillMetricSecrets("", refuse, &metric); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("comparative.prometheus: ", s.message()));
  }
  return metric;
}

absl::StatusOr<absl::Duration> ParseWindow(const json& value,
                                           const std::string& path) {
  if (value.is_null())
    return FieldError(path,
                      "is required (e.g. \"10m\": judge the last ten "
                      "minutes)");
  auto window = ParseStepDuration(value);
  if (!window.ok())
    return FieldError(path, std::string(window.status().message()));
  if (*window <= absl::ZeroDuration())
    return FieldError(path, "must be positive");
  if (*window > kMaxWindow) {
    return FieldError(path, absl::StrCat("must be at most ",
                                         absl::FormatDuration(kMaxWindow)));
  }
  return *window;
}

absl::StatusOr<std::optional<int>> ParseWeight(const json& value,
                                               const std::string& path) {
  if (value.is_null()) return std::nullopt;
  auto weight = IntegerIn(value, path, 0, 100);
  if (!weight.ok()) return weight.status();
  return static_cast<int>(*weight);
}

// "k=v,k2=v2" as a JSON object of labels (the template parser checks the
// names).
absl::StatusOr<json> ParseSelector(const std::string& text,
                                   const std::string& path) {
  json labels = json::object();
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    const std::string key(absl::StripAsciiWhitespace(kv.first));
    if (key.empty() || !absl::StrContains(part, '=')) {
      return FieldError(path, absl::StrCat("\"", QuoteForMessage(part, 80),
                                           "\" is not label=value"));
    }
    labels[key] = std::string(absl::StripAsciiWhitespace(kv.second));
  }
  if (labels.empty())
    return FieldError(path, "must name labels, e.g. app=podinfo-canary");
  return labels;
}

absl::StatusOr<double> ParseNumber(const std::string& text,
                                   const std::string& path) {
  double value = 0;
  if (!absl::SimpleAtod(text, &value) || !std::isfinite(value))
    return FieldError(path, "must be a number");
  return value;
}

}  // namespace

absl::StatusOr<JudgeRequest> ParseJudgeRequest(std::string_view body) {
  auto object = ParseObject(body);
  if (!object.ok()) return object.status();
  if (auto s = RejectUnknownFields(*object, "body",
                                   {"comparative", "window", "canaryWeight"});
      !s.ok()) {
    return s;
  }
  if (!object->contains("comparative"))
    return FieldError("comparative", "is required");
  JudgeRequest out;
  auto metric = ParseComparative((*object)["comparative"]);
  if (!metric.ok()) return metric.status();
  out.metric = *std::move(metric);
  auto window = ParseWindow(object->value("window", json()), "window");
  if (!window.ok()) return window.status();
  out.window = *window;
  auto weight =
      ParseWeight(object->value("canaryWeight", json()), "canaryWeight");
  if (!weight.ok()) return weight.status();
  out.canary_weight = *weight;
  return out;
}

absl::StatusOr<JudgeRequest> ParseFlaggerWebhook(std::string_view body) {
  auto object = ParseObject(body);
  if (!object.ok()) return object.status();
  // Flagger's own fields are read leniently (a newer Flagger may add some);
  // the metadata a user wrote is read strictly.
  JudgeRequest out;
  for (const char* key : {"name", "namespace"}) {
    auto value = StringField(*object, key, key);
    if (!value.ok()) return value.status();
    if (value->empty()) return FieldError(key, "is required");
  }
  auto phase = StringField(*object, "phase", "phase");
  if (!phase.ok()) return phase.status();
  out.phase = *phase;
  out.caller = absl::StrCat((*object)["namespace"].get<std::string>(), "/",
                            (*object)["name"].get<std::string>());
  const json& metadata = object->value("metadata", json());
  if (!metadata.is_object() || metadata.empty()) {
    return FieldError("metadata",
                      "is required: the webhook's metadata gives prometheus, "
                      "the canary and baseline and the window");
  }
  static const std::set<std::string> kIstio = {"service", "canary", "baseline",
                                               "event", "latencyObjectiveMs"};
  static const std::set<std::string> kKnown = {
      "prometheus",       "service",        "canary",
      "baseline",         "event",          "latencyObjectiveMs",
      "canaryEvents",     "canaryRequests", "baselineEvents",
      "baselineRequests", "alpha",          "margin",
      "maxBurst",         "resolution",     "window",
      "canaryWeight"};
  if (auto s = RejectUnknownFields(metadata, "metadata", kKnown); !s.ok())
    return s;
  json comparative = json::object();
  json istio = json::object();
  json window, weight;
  for (const auto& [key, value] : metadata.items()) {
    const std::string path = absl::StrCat("metadata.", key);
    if (!value.is_string())
      return FieldError(path, "must be a string (Flagger sends strings)");
    const std::string text = value.get<std::string>();
    if (key == "prometheus") {
      comparative["prometheus"] = {{"address", text}};
    } else if (key == "canary" || key == "baseline") {
      auto labels = ParseSelector(text, path);
      if (!labels.ok()) return labels.status();
      istio[key] = *labels;
    } else if (key == "latencyObjectiveMs" || key == "alpha" ||
               key == "margin" || key == "maxBurst") {
      auto number = ParseNumber(text, path);
      if (!number.ok()) return number.status();
      (kIstio.count(key) ? istio : comparative)[key] = *number;
    } else if (key == "canaryWeight") {
      auto number = ParseNumber(text, path);
      if (!number.ok()) return number.status();
      // A whole number stays an integer JSON value for IntegerIn.
      weight = *number == std::floor(*number) && std::abs(*number) < 1e9
                   ? json(static_cast<int64_t>(*number))
                   : json(*number);
    } else if (key == "window") {
      window = text;
    } else if (kIstio.count(key)) {
      istio[key] = text;
    } else {
      comparative[key] = text;  // resolution and the custom counters
    }
  }
  if (!comparative.contains("prometheus"))
    return FieldError("metadata.prometheus", "is required");
  if (!istio.empty()) comparative["istio"] = istio;
  auto metric = ParseComparative(comparative);
  if (!metric.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("metadata (read as ", metric.status().message(), ")"));
  }
  out.metric = *std::move(metric);
  auto parsed_window = ParseWindow(window, "metadata.window");
  if (!parsed_window.ok()) return parsed_window.status();
  out.window = *parsed_window;
  auto parsed_weight = ParseWeight(weight, "metadata.canaryWeight");
  if (!parsed_weight.ok()) return parsed_weight.status();
  out.canary_weight = *parsed_weight;
  return out;
}

}  // namespace smartcanary::analysis::http
