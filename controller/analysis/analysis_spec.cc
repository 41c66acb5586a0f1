#include "controller/analysis/analysis_spec.h"

#include <optional>
#include <regex>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "analysis/histogram_judge.h"
#include "common/utf8.h"
#include "controller/analysis/promql_text.h"
#include "controller/analysis/secret_refs.h"
#include "controller/json_fields.h"
#include "controller/rollout_spec.h"

namespace smartcanary {
namespace {

using nlohmann::json;

// Argo accepts ints or strings of digits (intstr) for counts and limits.
absl::StatusOr<int> IntOrString(const json& object, const std::string& key,
                                int fallback, const std::string& path) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  int value = 0;
  if (it->is_number_integer()) {
    auto n = IntegerIn(*it, path + "." + key, 0, INT32_MAX);
    if (!n.ok()) return n.status();
    value = static_cast<int>(*n);
  } else if (!it->is_string() ||
             !absl::SimpleAtoi(it->get<std::string>(), &value)) {
    return FieldError(path + "." + key, "must be a whole number");
  }
  if (value < 0) return FieldError(path + "." + key, "must not be negative");
  return value;
}

absl::StatusOr<absl::Duration> OptionalDuration(const json& object,
                                                const std::string& key,
                                                const std::string& path) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return absl::ZeroDuration();
  auto duration = ParseStepDuration(*it);
  if (!duration.ok())
    return FieldError(path + "." + key,
                      std::string(duration.status().message()));
  return *duration;
}

absl::StatusOr<std::vector<AnalysisArg>> ParseArgs(const json& value,
                                                   const std::string& path) {
  std::vector<AnalysisArg> args;
  if (value.is_null()) return args;
  if (!value.is_array())
    return FieldError(path, "must be a list of {name, value}");
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string item_path = absl::StrCat(path, "[", i, "]");
    if (auto s = RejectUnknownFields(value[i], item_path, {"name", "value"});
        !s.ok())
      return s;
    if (!value[i].contains("name") || !value[i]["name"].is_string()) {
      return FieldError(item_path + ".name", "is required");
    }
    AnalysisArg arg{value[i]["name"], std::nullopt};
    if (value[i].contains("value")) {
      const json& v = value[i]["value"];
      arg.value = v.is_string() ? v.get<std::string>() : v.dump();
    }
    args.push_back(arg);
  }
  return args;
}

absl::Status ParsePrometheus(const json& prom, const std::string& prom_path,
                             v1::PrometheusProvider* out, bool needs_query,
                             MetricSpec& metric) {
  if (auto s = RejectUnknownFields(
          prom, prom_path,
          {"address", "query", "timeout", "headers", "bearerTokenFile",
           kBearerTokenField, "basicAuth", "caFile", "scrapeInterval"});
      !s.ok()) {
    return s;
  }
  if (prom.contains("scrapeInterval")) {
    auto scrape = OptionalDuration(prom, "scrapeInterval", prom_path);
    if (!scrape.ok()) return scrape.status();
    if (*scrape <= absl::ZeroDuration())
      return FieldError(prom_path + ".scrapeInterval", "must be positive");
    metric.scrape_interval = *scrape;
  }
  for (auto [key, setter] :
       {std::pair<const char*,
                  void (v1::PrometheusProvider::*)(const std::string&)>{
            "address", &v1::PrometheusProvider::set_address},
        {"query", &v1::PrometheusProvider::set_query},
        {"bearerTokenFile", &v1::PrometheusProvider::set_bearer_token_file},
        {"caFile", &v1::PrometheusProvider::set_ca_file}}) {
    if (!prom.contains(key)) continue;
    if (!prom[key].is_string())
      return FieldError(absl::StrCat(prom_path, ".", key), "must be a string");
    (out->*setter)(prom[key].get<std::string>());
  }
  if (out->address().empty())
    return FieldError(prom_path + ".address", "is required");
  if (needs_query && out->query().empty())
    return FieldError(prom_path + ".query", "is required");
  auto timeout = IntOrString(prom, "timeout", 0, prom_path);
  if (!timeout.ok()) return timeout.status();
  out->set_timeout_seconds(*timeout);
  if (prom.contains("headers")) {
    const json& headers = prom["headers"];
    if (!headers.is_array())
      return FieldError(prom_path + ".headers",
                        "must be a list of {key, value}");
    for (size_t i = 0; i < headers.size(); ++i) {
      const std::string h = absl::StrCat(prom_path, ".headers[", i, "]");
      if (auto s = RejectUnknownFields(headers[i], h, {"key", "value"});
          !s.ok())
        return s;
      auto key = StringField(headers[i], "key", h + ".key");
      if (!key.ok()) return key.status();
      auto value = StringField(headers[i], "value", h + ".value");
      if (!value.ok()) return value.status();
      (*out->mutable_headers())[*key] = *value;
    }
  }
  if (prom.contains("basicAuth")) {
    const json& basic = prom["basicAuth"];
    if (auto s = RejectUnknownFields(
            basic, prom_path + ".basicAuth",
            {"username", "passwordFile", kBasicAuthPasswordField});
        !s.ok())
      return s;
    auto user =
        StringField(basic, "username", prom_path + ".basicAuth.username");
    if (!user.ok()) return user.status();
    auto password_file = StringField(basic, "passwordFile",
                                     prom_path + ".basicAuth.passwordFile");
    if (!password_file.ok()) return password_file.status();
    out->set_basic_auth_user(*user);
    out->set_basic_auth_password_file(*password_file);
  }
  return ParseSecretRefs(prom, prom_path, out);
}

bool IsPromLabelName(const std::string& name) {
  if (name.empty() || absl::ascii_isdigit(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  }
  return true;
}

absl::StatusOr<std::map<std::string, std::string>> Selector(
    const json& value, const std::string& path) {
  std::map<std::string, std::string> labels;
  if (!value.is_object() || value.empty()) {
    return FieldError(
        path,
        "must be a map of labels, e.g. {destination_canonical_revision: v2}");
  }
  for (const auto& [key, label] : value.items()) {
    // Keys are written into PromQL unquoted: only Prometheus label names.
    if (!IsPromLabelName(key)) {
      return FieldError(
          absl::StrCat(path, "[\"", QuoteForMessage(key, 80), "\"]"),
          "is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)");
    }
    if (!label.is_string())
      return FieldError(
          absl::StrCat(path, "[\"", QuoteForMessage(key, 80), "\"]"),
          "must be a string");
    labels[key] = label.get<std::string>();
  }
  return labels;
}

absl::Status ParseIstioPreset(const json& istio, const std::string& ipath,
                              v1::IstioPreset* preset) {
  if (auto s = RejectUnknownFields(istio, ipath,
                                   {"service", "canary", "baseline", "event",
                                    "latencyObjectiveMs", "latencyBucketsMs"});
      !s.ok()) {
    return s;
  }
  auto service = StringField(istio, "service", ipath + ".service");
  if (!service.ok()) return service.status();
  preset->set_service(*service);
  if (preset->service().empty())
    return FieldError(ipath + ".service", "is required");
  for (auto [key, labels] :
       {std::pair{"canary", preset->mutable_canary()},
        std::pair{"baseline", preset->mutable_baseline()}}) {
    auto selector =
        Selector(istio.value(key, json()), absl::StrCat(ipath, ".", key));
    if (!selector.ok()) return selector.status();
    labels->insert(selector->begin(), selector->end());
  }
  auto event = StringField(istio, "event", ipath + ".event", "grpc-errors");
  if (!event.ok()) return event.status();
  preset->set_event(*event);
  if (preset->event() != "grpc-errors" && preset->event() != "http-5xx" &&
      preset->event() != "slower-than" &&
      preset->event() != "latency-histogram") {
    return FieldError(
        ipath + ".event",
        absl::StrCat("\"", QuoteForMessage(preset->event(), 80),
                     "\" is not one of grpc-errors, http-5xx, slower-than, "
                     "latency-histogram"));
  }
  if (preset->event() == "latency-histogram") {
    const json buckets = istio.value("latencyBucketsMs", json());
    if (!buckets.is_array())
      return FieldError(ipath + ".latencyBucketsMs",
                        "is required for latency-histogram (a list of le "
                        "values, e.g. [10, 25, 50, 100, 250, 500])");
    for (size_t i = 0; i < buckets.size(); ++i) {
      if (!buckets[i].is_number())
        return FieldError(absl::StrCat(ipath, ".latencyBucketsMs[", i, "]"),
                          "must be a number of milliseconds");
      preset->add_latency_buckets_ms(buckets[i].get<double>());
    }
    // The same check the analyzer applies; its message starts at "istio".
    if (auto s = ::smartcanary::analysis::CheckHistogramBuckets(*preset);
        !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          ipath.substr(0, ipath.size() - std::string("istio").size()),
          s.message()));
    }
  } else if (istio.contains("latencyBucketsMs")) {
    return FieldError(ipath + ".latencyBucketsMs",
                      "is only for event latency-histogram");
  }
  auto objective = NumberField(istio, "latencyObjectiveMs",
                               ipath + ".latencyObjectiveMs", 0.0);
  if (!objective.ok()) return objective.status();
  preset->set_latency_objective_ms(*objective);
  if (preset->event() == "slower-than" && preset->latency_objective_ms() <= 0) {
    return FieldError(
        ipath + ".latencyObjectiveMs",
        "is required for slower-than (a histogram bucket edge, e.g. 250)");
  }
  return absl::OkStatus();
}

absl::Status ParseComparative(const json& value, const std::string& path,
                              MetricSpec& spec) {
  v1::Metric& metric = spec.query;
  if (auto s = RejectUnknownFields(
          value, path,
          {"prometheus", "istio", "canaryEvents", "canaryRequests",
           "baselineEvents", "baselineRequests", "alpha", "margin", "maxBurst",
           "resolution"});
      !s.ok()) {
    return s;
  }
  v1::ComparativeProvider* out = metric.mutable_comparative();
  if (!value.contains("prometheus"))
    return FieldError(path + ".prometheus", "is required");
  if (auto s = ParsePrometheus(value["prometheus"], path + ".prometheus",
                               out->mutable_prometheus(), false, spec);
      !s.ok()) {
    return s;
  }
  const bool custom =
      value.contains("canaryEvents") || value.contains("canaryRequests") ||
      value.contains("baselineEvents") || value.contains("baselineRequests");
  if (value.contains("istio") == custom) {
    return FieldError(
        path,
        "give either istio (a preset) or all of canaryEvents, canaryRequests, "
        "baselineEvents, baselineRequests");
  }
  if (custom) {
    for (auto [key, setter] :
         {std::pair<const char*,
                    void (v1::ComparativeProvider::*)(const std::string&)>{
              "canaryEvents", &v1::ComparativeProvider::set_canary_events},
          {"canaryRequests", &v1::ComparativeProvider::set_canary_requests},
          {"baselineEvents", &v1::ComparativeProvider::set_baseline_events},
          {"baselineRequests",
           &v1::ComparativeProvider::set_baseline_requests}}) {
      if (!value.contains(key) || !value[key].is_string()) {
        return FieldError(
            absl::StrCat(path, ".", key),
            "is required (a PromQL expression of a cumulative count)");
      }
      (out->*setter)(value[key].get<std::string>());
    }
  } else if (auto s = ParseIstioPreset(value["istio"], path + ".istio",
                                       out->mutable_istio());
             !s.ok()) {
    return s;
  }
  auto alpha = NumberField(value, "alpha", path + ".alpha", 0.01);
  if (!alpha.ok()) return alpha.status();
  auto margin = NumberField(value, "margin", path + ".margin", 0.25);
  if (!margin.ok()) return margin.status();
  out->set_alpha(*alpha);
  out->set_margin(*margin);
  if (out->alpha() <= 0 || out->alpha() >= 1)
    return FieldError(path + ".alpha", "must be in (0, 1)");
  if (out->margin() < 0)
    return FieldError(path + ".margin", "must not be negative");
  // The burst bound the false-rollback guarantee assumes (STATISTICS-
  // IMPLEMENTATION.md, "Validity"); unset is the default, 5.
  if (value.contains("maxBurst")) {
    if (!value["maxBurst"].is_number() || value["maxBurst"].get<double>() < 1)
      return FieldError(path + ".maxBurst",
                        "must be a number of events, at least 1");
    out->set_max_burst(value["maxBurst"].get<double>());
  }
  auto resolution = OptionalDuration(value, "resolution", path);
  if (!resolution.ok()) return resolution.status();
  out->set_resolution_seconds(
      *resolution == absl::ZeroDuration()
          ? 5
          : std::max(1, static_cast<int>(absl::ToInt64Seconds(*resolution))));
  return absl::OkStatus();
}

absl::Status ParseProvider(const json& provider, const std::string& path,
                           MetricSpec& metric) {
  if (auto s =
          RejectUnknownFields(provider, path, {"prometheus", "comparative"});
      !s.ok())
    return s;
  if (provider.contains("comparative")) {
    return ParseComparative(provider["comparative"], path + ".comparative",
                            metric);
  }
  if (!provider.contains("prometheus")) {
    return FieldError(path + ".prometheus", "is required (or comparative)");
  }
  return ParsePrometheus(provider["prometheus"], path + ".prometheus",
                         metric.query.mutable_prometheus(), true, metric);
}

absl::StatusOr<MetricSpec> ParseMetric(const json& value,
                                       const std::string& path) {
  if (auto s = RejectUnknownFields(
          value, path,
          {"name", "interval", "count", "initialDelay", "successCondition",
           "failureCondition", "failureLimit", "inconclusiveLimit",
           "consecutiveErrorLimit", "provider"});
      !s.ok()) {
    return s;
  }
  MetricSpec metric;
  if (!value.contains("name") || !value["name"].is_string() ||
      value["name"].get<std::string>().empty()) {
    return FieldError(path + ".name", "is required");
  }
  metric.name = value["name"];
  metric.query.set_name(metric.name);
  const std::string named =
      absl::StrCat(path, " (", QuoteForMessage(metric.name, 80), ")");
  auto interval = OptionalDuration(value, "interval", named);
  if (!interval.ok()) return interval.status();
  metric.interval = *interval;
  auto delay = OptionalDuration(value, "initialDelay", named);
  if (!delay.ok()) return delay.status();
  metric.initial_delay = *delay;
  for (auto [key, slot, fallback] :
       {std::tuple{"count", &metric.count, 0},
        std::tuple{"failureLimit", &metric.failure_limit, 0},
        std::tuple{"inconclusiveLimit", &metric.inconclusive_limit, 0},
        std::tuple{"consecutiveErrorLimit", &metric.consecutive_error_limit,
                   4}}) {
    auto parsed = IntOrString(value, key, fallback, named);
    if (!parsed.ok()) return parsed.status();
    *slot = *parsed;
  }
  if (metric.count > 1 && metric.interval == absl::ZeroDuration()) {
    return FieldError(named + ".interval",
                      "is required when count is more than 1");
  }
  auto success =
      StringField(value, "successCondition", named + ".successCondition");
  if (!success.ok()) return success.status();
  auto failure =
      StringField(value, "failureCondition", named + ".failureCondition");
  if (!failure.ok()) return failure.status();
  metric.query.set_success_condition(*success);
  metric.query.set_failure_condition(*failure);
  if (!value.contains("provider"))
    return FieldError(named + ".provider", "is required");
  if (auto s = ParseProvider(value["provider"], named + ".provider", metric);
      !s.ok())
    return s;
  return metric;
}

// Longer than any sensible metric name pattern; bounds std::regex's work.
constexpr size_t kMaxDryRunPattern = 253;

// Argo's spec.dryRun: [{metricName: REGEX}], each rule matching any part of
// a metric's name as Go's regexp.MatchString does (`.*` for all). A rule
// that matches no metric is an error, as in Argo: a typo would otherwise
// leave a metric live.
absl::Status MarkDryRun(const json& rules, const std::string& path,
                        std::vector<MetricSpec>& metrics) {
  if (!rules.is_array()) {
    return FieldError(path, "must be a list of {metricName: NAME}");
  }
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string item = absl::StrCat(path, "[", i, "]");
    if (auto s = RejectUnknownFields(rules[i], item, {"metricName"}); !s.ok())
      return s;
    auto pattern = StringField(rules[i], "metricName", item + ".metricName");
    if (!pattern.ok()) return pattern.status();
    if (pattern->empty() || pattern->size() > kMaxDryRunPattern) {
      return FieldError(item + ".metricName",
                        absl::StrCat("must be a metric name or regular "
                                     "expression of 1 to ",
                                     kMaxDryRunPattern, " characters"));
    }
    // std::regex reports a bad pattern only by throwing; it stays here.
    std::optional<std::regex> regex;
    try {
      regex.emplace(*pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return FieldError(
          item + ".metricName",
          absl::StrCat("\"", QuoteForMessage(*pattern, 80),
                       "\" is not a regular expression: ", e.what()));
    }
    int matched = 0;
    for (MetricSpec& metric : metrics) {
      bool hit = false;
      try {
        hit = std::regex_search(metric.name, *regex);
      } catch (const std::regex_error& e) {
        return FieldError(item + ".metricName",
                          absl::StrCat("matching failed: ", e.what()));
      }
      if (!hit) continue;
      metric.dry_run = true;
      ++matched;
    }
    if (matched == 0) {
      return FieldError(item + ".metricName",
                        absl::StrCat("\"", QuoteForMessage(*pattern, 80),
                                     "\" matches no metric of this template"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int MetricSpec::planned_measurements() const {
  if (count > 0) return count;
  return interval == absl::ZeroDuration() ? 1 : 0;
}

absl::Duration MetricSpec::WarmUp() const {
  absl::Duration window = absl::ZeroDuration();
  if (query.has_comparative()) {
    window = absl::Seconds(query.comparative().resolution_seconds());
  } else {
    for (absl::Duration range : RangeSelectors(query.prometheus().query()))
      window = std::max(window, range);
  }
  return window + ScrapeInterval();
}

const char* OnErrorName(OnError on_error) {
  return on_error == OnError::kPause ? "pause" : "rollback";
}

absl::StatusOr<AnalysisRef> ParseAnalysisRef(const json& value,
                                             const std::string& path) {
  if (auto s = RejectUnknownFields(
          value, path, {"templates", "args", "startingStep", "onError"});
      !s.ok())
    return s;
  AnalysisRef ref;
  if (auto on_error = value.find("onError"); on_error != value.end()) {
    if (*on_error == "pause") {
      ref.on_error = OnError::kPause;
    } else if (*on_error != "rollback") {
      return FieldError(
          path + ".onError",
          absl::StrCat(
              QuoteForMessage(on_error->dump(-1, ' ', false,
                                             json::error_handler_t::replace),
                              80),
              " is not one of rollback, pause"));
    }
  }
  const json& templates = value.value("templates", json::array());
  if (!templates.is_array() || templates.empty()) {
    return FieldError(path + ".templates", "must list at least one template");
  }
  for (size_t i = 0; i < templates.size(); ++i) {
    const std::string item = absl::StrCat(path, ".templates[", i, "]");
    if (auto s = RejectUnknownFields(templates[i], item,
                                     {"templateName", "clusterScope"});
        !s.ok())
      return s;
    if (!templates[i].contains("templateName") ||
        !templates[i]["templateName"].is_string()) {
      return FieldError(item + ".templateName", "is required");
    }
    auto cluster_scope =
        BoolField(templates[i], "clusterScope", item + ".clusterScope", false);
    if (!cluster_scope.ok()) return cluster_scope.status();
    ref.templates.push_back({templates[i]["templateName"], *cluster_scope});
  }
  auto args = ParseArgs(value.value("args", json()), path + ".args");
  if (!args.ok()) return args.status();
  ref.args = *args;
  return ref;
}

json AnalysisRefToJson(const AnalysisRef& ref) {
  json templates = json::array();
  for (const TemplateRef& t : ref.templates) {
    json item = {{"templateName", t.name}};
    if (t.cluster_scope) item["clusterScope"] = true;
    templates.push_back(item);
  }
  json out = {{"templates", templates}};
  if (ref.on_error != OnError::kRollback)
    out["onError"] = OnErrorName(ref.on_error);
  if (!ref.args.empty()) {
    json args = json::array();
    for (const AnalysisArg& arg : ref.args) {
      json item = {{"name", arg.name}};
      if (arg.value) item["value"] = *arg.value;
      args.push_back(item);
    }
    out["args"] = args;
  }
  return out;
}

absl::StatusOr<AnalysisTemplate> ParseAnalysisTemplate(
    const json& spec, const std::string& where) {
  // Argo's measurementRetention is not implemented (canaryd keeps the last
  // kKeptMeasurements): refused like any unknown field rather than ignored.
  if (auto s = RejectUnknownFields(spec, where + " spec",
                                   {"args", "metrics", "dryRun"});
      !s.ok()) {
    return s;
  }
  AnalysisTemplate out;
  auto args = ParseArgs(spec.value("args", json()), where + " spec.args");
  if (!args.ok()) return args.status();
  out.args = *args;
  const json& metrics = spec.value("metrics", json::array());
  if (!metrics.is_array() || metrics.empty()) {
    return FieldError(where + " spec.metrics", "must list at least one metric");
  }
  for (size_t i = 0; i < metrics.size(); ++i) {
    auto metric =
        ParseMetric(metrics[i], absl::StrCat(where, " spec.metrics[", i, "]"));
    if (!metric.ok()) return metric.status();
    out.metrics.push_back(*metric);
  }
  if (spec.contains("dryRun")) {
    if (auto s =
            MarkDryRun(spec["dryRun"], where + " spec.dryRun", out.metrics);
        !s.ok()) {
      return s;
    }
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> ResolveArgs(
    const std::vector<AnalysisArg>& template_args,
    const std::vector<AnalysisArg>& given, const std::string& where) {
  std::map<std::string, std::string> values;
  for (const AnalysisArg& arg : template_args) {
    if (arg.value) values[arg.name] = *arg.value;
  }
  for (const AnalysisArg& arg : given) {
    if (arg.value) values[arg.name] = *arg.value;
  }
  for (const AnalysisArg& arg : template_args) {
    if (!values.count(arg.name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": arg \"", arg.name,
          "\" needs a value (give it in the rollout's analysis args)"));
    }
  }
  return values;
}

}  // namespace smartcanary
