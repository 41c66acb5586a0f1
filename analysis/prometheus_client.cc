#include "analysis/prometheus_client.h"

#include <cmath>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/files.h"
#include "nlohmann/json.hpp"

namespace smartcanary::analysis {
namespace {

using nlohmann::json;

std::string StringField(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// application/x-www-form-urlencoded.
std::string FormEscape(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

absl::StatusOr<std::string> ReadSecret(const std::string& path,
                                       const std::string& what) {
  auto secret = ReadSecretFile(path);
  if (!secret.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": ", secret.status().message()));
  }
  return secret;
}

// Prometheus encodes sample values as strings ("NaN", "+Inf" included).
double SampleValue(const json& pair) {
  double value = std::nan("");
  if (pair.is_array() && pair.size() == 2 && pair[1].is_string()) {
    const std::string text = pair[1];
    if (text == "+Inf") return INFINITY;
    if (text == "-Inf") return -INFINITY;
    if (!absl::SimpleAtod(text, &value)) value = std::nan("");
  }
  return value;
}

std::map<std::string, std::string> Labels(const json& metric) {
  std::map<std::string, std::string> labels;
  if (!metric.is_object()) return labels;
  for (const auto& [key, value] : metric.items())
    if (value.is_string()) labels[key] = value.get<std::string>();
  return labels;
}

absl::StatusOr<json> DataOf(const std::string& body) {
  json parsed = json::parse(body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("data") ||
      !parsed["data"].is_object()) {
    return absl::InternalError(
        "Prometheus answered with something that is not its API's JSON");
  }
  return parsed["data"];
}

std::string UnixSeconds(absl::Time t) {
  return absl::StrFormat("%.3f", absl::ToDoubleSeconds(t - absl::UnixEpoch()));
}

}  // namespace

PrometheusClient::PrometheusClient(PrometheusOptions options)
    : options_(std::move(options)) {
  TlsConfig tls;
  if (!options_.ca_file.empty()) {
    auto ca = ReadFile(options_.ca_file);
    if (ca.ok()) {
      tls.ca_pem = *ca;
    } else {
      setup_ = absl::FailedPreconditionError(
          absl::StrCat("provider.prometheus.caFile: ", ca.status().message()));
    }
  }
  transport_ = std::make_unique<HttpTransport>(
      HttpTransportOptions{tls, options_.user_agent, options_.timeout});
}

absl::StatusOr<std::string> PrometheusClient::Get(
    const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& params) const {
  if (options_.address.empty()) {
    return absl::InvalidArgumentError(
        "provider.prometheus.address: is required");
  }
  if (!setup_.ok()) return setup_;
  HttpRequest request;
  request.method = "POST";  // a form, as Grafana sends: no URL length limit
  for (const auto& [key, value] : params) {
    absl::StrAppend(&request.body, request.body.empty() ? "" : "&", key, "=",
                    FormEscape(value));
  }
  std::string address = options_.address;
  while (!address.empty() && address.back() == '/') address.pop_back();
  request.url = address + path;
  request.headers.push_back("Content-Type: application/x-www-form-urlencoded");
  request.headers.push_back("Accept: application/json");
  for (const auto& [name, value] : options_.headers)
    request.headers.push_back(absl::StrCat(name, ": ", value));
  if (!options_.bearer_token_file.empty()) {
    auto token = ReadSecret(options_.bearer_token_file, "bearer token");
    if (!token.ok()) return token.status();
    request.headers.push_back(absl::StrCat("Authorization: Bearer ", *token));
  }
  if (!options_.basic_auth_user.empty()) {
    auto secret =
        ReadSecret(options_.basic_auth_password_file, "basic auth password");
    if (!secret.ok()) return secret.status();
    request.headers.push_back(absl::StrCat(
        "Authorization: Basic ", absl::Base64Escape(absl::StrCat(
                                     options_.basic_auth_user, ":", *secret))));
  }
  request.timeout = options_.timeout;
  request.deadline = absl::Now() + options_.timeout;
  request.cancelled = options_.cancelled;
  request.max_response_bytes = options_.max_response_bytes;
  request.idempotent = true;  // a query reads only
  RetryPolicy policy;
  policy.max_attempts = 3;
  auto response = transport_->Send(request, policy, RetryClock::Real());
  if (absl::IsDeadlineExceeded(response.status())) {
    return absl::DeadlineExceededError(
        absl::StrCat("Prometheus at ", address, " did not answer within ",
                     absl::FormatDuration(options_.timeout)));
  }
  if (absl::IsUnavailable(response.status())) {
    return absl::UnavailableError(
        absl::StrCat("Prometheus at ", address,
                     " unreachable: ", response.status().message()));
  }
  if (!response.ok()) return response.status();
  const int code = response->status;
  if (code == 200) return std::move(response->body);
  json parsed = json::parse(response->body, nullptr, false);
  if (parsed.is_object() && StringField(parsed, "status") == "error") {
    const std::string type = StringField(parsed, "errorType");
    const std::string message =
        absl::StrCat("Prometheus: ", type.empty() ? "error" : type, ": ",
                     StringField(parsed, "error"));
    if (code == 400 || code == 422) return absl::InvalidArgumentError(message);
    return absl::UnavailableError(message);
  }
  return absl::UnavailableError(absl::StrCat("Prometheus at ", address,
                                             " answered HTTP ", code, ": ",
                                             response->body.substr(0, 200)));
}

absl::StatusOr<std::vector<Sample>> PrometheusClient::Query(
    const std::string& promql, std::optional<absl::Time> at) const {
  std::vector<std::pair<std::string, std::string>> params = {{"query", promql}};
  if (at) params.emplace_back("time", UnixSeconds(*at));
  auto body = Get("/api/v1/query", params);
  if (!body.ok()) return body.status();
  auto data = DataOf(*body);
  if (!data.ok()) return data.status();
  const std::string type = StringField(*data, "resultType");
  const json result = data->value("result", json());
  std::vector<Sample> samples;
  if (type == "scalar") {
    samples.push_back({{}, SampleValue(result)});
  } else if (type == "vector" && result.is_array()) {
    for (const json& item : result) {
      if (!item.is_object()) continue;
      samples.push_back({Labels(item.value("metric", json::object())),
                         SampleValue(item.value("value", json()))});
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("the query gives a ", type,
                     "; use an instant vector or scalar expression"));
  }
  return samples;
}

absl::StatusOr<std::vector<Series>> PrometheusClient::QueryRange(
    const std::string& promql, absl::Time start, absl::Time end,
    absl::Duration step) const {
  auto body = Get("/api/v1/query_range",
                  {{"query", promql},
                   {"start", UnixSeconds(start)},
                   {"end", UnixSeconds(end)},
                   {"step", absl::StrCat(absl::ToDoubleSeconds(step))}});
  if (!body.ok()) return body.status();
  auto data = DataOf(*body);
  if (!data.ok()) return data.status();
  std::vector<Series> series;
  const json result = data->value("result", json::array());
  if (!result.is_array()) return series;
  for (const json& item : result) {
    if (!item.is_object()) continue;
    Series one{Labels(item.value("metric", json::object())), {}};
    const json values = item.value("values", json::array());
    if (!values.is_array()) continue;
    for (const json& pair : values) {
      if (!pair.is_array() || pair.empty() || !pair[0].is_number()) continue;
      one.points.emplace_back(absl::FromUnixMillis(static_cast<int64_t>(
                                  pair[0].get<double>() * 1000)),
                              SampleValue(pair));
    }
    series.push_back(std::move(one));
  }
  return series;
}

}  // namespace smartcanary::analysis
