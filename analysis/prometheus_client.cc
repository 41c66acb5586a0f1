#include "analysis/prometheus_client.h"

#include <curl/curl.h>

#include <cmath>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/files.h"
#include "nlohmann/json.hpp"

namespace smartcanary::analysis {
namespace {

using nlohmann::json;

size_t Append(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
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
  for (const auto& [key, value] : metric.items())
    labels[key] = value.get<std::string>();
  return labels;
}

absl::StatusOr<json> DataOf(const std::string& body) {
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.contains("data")) {
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
    : options_(std::move(options)) {}

absl::StatusOr<std::string> PrometheusClient::Get(
    const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& params) const {
  if (options_.address.empty()) {
    return absl::InvalidArgumentError(
        "provider.prometheus.address: is required");
  }
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                           curl_easy_cleanup);
  std::string body;
  for (const auto& [key, value] : params) {
    char* escaped = curl_easy_escape(curl.get(), value.c_str(),
                                     static_cast<int>(value.size()));
    absl::StrAppend(&body, body.empty() ? "" : "&", key, "=", escaped);
    curl_free(escaped);
  }
  std::string address = options_.address;
  while (!address.empty() && address.back() == '/') address.pop_back();
  const std::string url = address + path;
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : options_.headers) {
    headers =
        curl_slist_append(headers, absl::StrCat(name, ": ", value).c_str());
  }
  if (!options_.bearer_token_file.empty()) {
    auto token = ReadSecret(options_.bearer_token_file, "bearer token");
    if (!token.ok()) return token.status();
    headers = curl_slist_append(
        headers, absl::StrCat("Authorization: Bearer ", *token).c_str());
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(
      headers, curl_slist_free_all);
  std::string password;
  if (!options_.basic_auth_user.empty()) {
    auto secret =
        ReadSecret(options_.basic_auth_password_file, "basic auth password");
    if (!secret.ok()) return secret.status();
    password = *secret;
    curl_easy_setopt(curl.get(), CURLOPT_USERNAME,
                     options_.basic_auth_user.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_PASSWORD, password.c_str());
  }
  if (!options_.ca_file.empty())
    curl_easy_setopt(curl.get(), CURLOPT_CAINFO, options_.ca_file.c_str());
  std::string response;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS,
                   body.c_str());  // POST form, as Grafana does
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(
      curl.get(), CURLOPT_TIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response);
  const CURLcode result = curl_easy_perform(curl.get());
  if (result == CURLE_OPERATION_TIMEDOUT) {
    return absl::DeadlineExceededError(
        absl::StrCat("Prometheus at ", address, " did not answer within ",
                     absl::FormatDuration(options_.timeout)));
  }
  if (result != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("Prometheus at ", address,
                     " unreachable: ", curl_easy_strerror(result)));
  }
  long code = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &code);
  if (code == 200) return response;
  json parsed = json::parse(response, nullptr, false);
  if (!parsed.is_discarded() && parsed.value("status", "") == "error") {
    const std::string message =
        absl::StrCat("Prometheus: ", parsed.value("errorType", "error"), ": ",
                     parsed.value("error", ""));
    if (code == 400 || code == 422) return absl::InvalidArgumentError(message);
    return absl::UnavailableError(message);
  }
  return absl::UnavailableError(absl::StrCat("Prometheus at ", address,
                                             " answered HTTP ", code, ": ",
                                             response.substr(0, 200)));
}

absl::StatusOr<std::vector<Sample>> PrometheusClient::Query(
    const std::string& promql, std::optional<absl::Time> at) const {
  std::vector<std::pair<std::string, std::string>> params = {{"query", promql}};
  if (at) params.emplace_back("time", UnixSeconds(*at));
  auto body = Get("/api/v1/query", params);
  if (!body.ok()) return body.status();
  auto data = DataOf(*body);
  if (!data.ok()) return data.status();
  const std::string type = data->value("resultType", "");
  const json& result = (*data)["result"];
  std::vector<Sample> samples;
  if (type == "scalar") {
    samples.push_back({{}, SampleValue(result)});
  } else if (type == "vector") {
    for (const json& item : result) {
      samples.push_back({Labels(item.value("metric", json::object())),
                         SampleValue(item["value"])});
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
  for (const json& item : (*data)["result"]) {
    Series one{Labels(item.value("metric", json::object())), {}};
    for (const json& pair : item["values"]) {
      one.points.emplace_back(absl::FromUnixMillis(static_cast<int64_t>(
                                  pair[0].get<double>() * 1000)),
                              SampleValue(pair));
    }
    series.push_back(std::move(one));
  }
  return series;
}

}  // namespace smartcanary::analysis
