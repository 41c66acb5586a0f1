#include "bench/apiserver_requests.h"

#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/http_transport.h"

namespace smartcanary::bench {
namespace {

// The resources canaryd reads or writes (without --leader-elect), and those
// Argo Rollouts' controller does in bench/argo/ (no other client touches
// them there but the benchmark, which subtracts its own): the API server's
// own loops (its lease, endpoints, its informers' watches, its Service IP
// repair LIST) touch others, or services by LIST.
const std::set<std::string> kCanarydResources = {
    "canaryrollouts",
    "canaryanalysistemplates",
    "clustercanaryanalysistemplates",
    "virtualservices",
    "destinationrules",
    "services",
    "rollouts",
    "analysisruns",
    "analysistemplates",
    "replicasets"};
constexpr char kApiserverRepairList[] = "LIST services";

// The labels of one sample line, `name{a="x",b="y"} value`.
std::map<std::string, std::string> Labels(absl::string_view inside) {
  std::map<std::string, std::string> labels;
  while (!inside.empty()) {
    const size_t eq = inside.find("=\"");
    if (eq == absl::string_view::npos) break;
    const std::string key(absl::StripAsciiWhitespace(inside.substr(0, eq)));
    const size_t end = inside.find('"', eq + 2);
    if (end == absl::string_view::npos) break;
    labels[key] = std::string(inside.substr(eq + 2, end - eq - 2));
    inside.remove_prefix(end + 1);
    absl::ConsumePrefix(&inside, ",");
  }
  return labels;
}

}  // namespace

double RequestCounts::Total() const {
  double total = 0;
  for (const auto& [request, count] : by_request) total += count;
  return total;
}

RequestCounts ParseApiserverRequests(absl::string_view metrics_text) {
  RequestCounts counts;
  for (absl::string_view line : absl::StrSplit(metrics_text, '\n')) {
    if (!absl::ConsumePrefix(&line, "apiserver_request_total{")) continue;
    const size_t close = line.rfind('}');
    if (close == absl::string_view::npos) continue;
    double value = 0;
    if (!absl::SimpleAtod(absl::StripAsciiWhitespace(line.substr(close + 1)),
                          &value)) {
      continue;
    }
    std::map<std::string, std::string> labels = Labels(line.substr(0, close));
    if (!kCanarydResources.contains(labels["resource"])) continue;
    std::string key = absl::StrCat(labels["verb"], " ", labels["resource"]);
    if (!labels["subresource"].empty())
      absl::StrAppend(&key, "/", labels["subresource"]);
    if (key == kApiserverRepairList) continue;
    counts.by_request[key] += value;
    counts.by_code[absl::StrCat(labels["code"], " ", key)] += value;
  }
  return counts;
}

absl::StatusOr<RequestCounts> ReadApiserverRequests(
    const kube::KubeConfig& config) {
  HttpTransport transport(HttpTransportOptions{
      TlsConfig{config.ca_pem, config.client_cert_pem, config.client_key_pem},
      UserAgent("controller-scale-bench")});
  HttpRequest request;
  request.url = config.server + "/metrics";
  if (!config.token.empty())
    request.headers.push_back("Authorization: Bearer " + config.token);
  request.max_response_bytes = size_t{256} << 20;
  auto response = transport.Do(request);
  if (!response.ok()) return response.status();
  if (response->status != 200) {
    return absl::UnavailableError(absl::StrCat("GET ", request.url, ": HTTP ",
                                               response->status, ": ",
                                               response->body.substr(0, 200)));
  }
  return ParseApiserverRequests(response->body);
}

RequestCounts Difference(const RequestCounts& after,
                         const RequestCounts& before,
                         const RequestCounts& own) {
  RequestCounts out;
  for (const auto& [key, count] : after.by_request) {
    double delta = count;
    if (auto it = before.by_request.find(key); it != before.by_request.end())
      delta -= it->second;
    if (auto it = own.by_request.find(key); it != own.by_request.end())
      delta -= it->second;
    if (delta > 0) out.by_request[key] = delta;
  }
  for (const auto& [code, count] : after.by_code) {
    double delta = count;
    if (auto it = before.by_code.find(code); it != before.by_code.end())
      delta -= it->second;
    if (delta > 0) out.by_code[code] = delta;
  }
  return out;
}

}  // namespace smartcanary::bench
