#include "analysis/prometheus_client.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/files.h"

namespace smartcanary::analysis {
namespace {

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

std::string UnixSeconds(absl::Time t) {
  return absl::StrFormat("%.3f", absl::ToDoubleSeconds(t - absl::UnixEpoch()));
}

// Header text with a control character (a line break above all) would let
// a template or a Secret add headers or a second request.
bool HasControl(absl::string_view text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

// A credential file's content, read only from inside the credentials
// directory.
absl::StatusOr<std::string> ReadCredential(const PrometheusOptions& options,
                                           const std::string& path,
                                           const std::string& field,
                                           bool trim) {
  auto real = ResolveCredentialPath(options.credentials_dir, path, field);
  if (!real.ok()) return real.status();
  auto content = trim ? ReadSecretFile(*real) : ReadFile(*real);
  if (!content.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": ", content.status().message()));
  }
  if (trim && HasControl(*content)) {
    return absl::FailedPreconditionError(absl::StrCat(
        field, ": the file holds a line break or control character"));
  }
  return content;
}

// Every address of `url`'s host, resolved once and each checked, as the
// CURLOPT_RESOLVE entry that pins the connection to them.
absl::StatusOr<std::vector<std::string>> CheckedAddresses(
    const HttpUrl& url, const AddressPolicy& policy, const std::string& field) {
  if (auto s = policy.CheckHost(url, field); !s.ok()) return s;
  if (url.ip) return std::vector<std::string>{};  // connects to it as written
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(url.host.c_str(), nullptr, &hints, &found);
      rc != 0) {
    return absl::UnavailableError(absl::StrCat(
        field, ": cannot resolve host \"", url.host, "\": ", gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, freeaddrinfo);
  std::vector<std::string> addresses;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    IpAddress ip;
    if (a->ai_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      ip = *ParseIp("0.0.0.0");
      std::memcpy(ip.bytes.data() + 12, &in->sin_addr, 4);
    } else if (a->ai_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      std::memcpy(ip.bytes.data(), &in6->sin6_addr, 16);
    } else {
      continue;
    }
    if (auto s = policy.CheckAddress(url, ip, field); !s.ok()) return s;
    const std::string text =
        ip.is_v4() ? ip.ToString() : absl::StrCat("[", ip.ToString(), "]");
    if (std::find(addresses.begin(), addresses.end(), text) == addresses.end())
      addresses.push_back(text);
  }
  if (addresses.empty()) {
    return absl::UnavailableError(
        absl::StrCat(field, ": host \"", url.host, "\" has no address"));
  }
  return std::vector<std::string>{absl::StrCat(url.host, ":", url.port, ":",
                                               absl::StrJoin(addresses, ","))};
}

}  // namespace

absl::Status CheckProviderStatically(const PrometheusOptions& options) {
  const std::string& field = options.field;
  if (options.address.empty())
    return absl::InvalidArgumentError(field + ".address: is required");
  auto url = ParseHttpUrl(options.address, field + ".address");
  if (!url.ok()) return url.status();
  if (auto s = options.address_policy.CheckHost(*url, field + ".address");
      !s.ok()) {
    return s;
  }
  for (const auto& [name, value] : options.headers) {
    if (name.empty() || HasControl(name) || HasControl(value) ||
        name.find_first_of(": ") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".headers: \"", Snippet(name, 40),
          "\" must be a header name with a value free of line breaks and "
          "control characters"));
    }
  }
  if (HasControl(options.bearer_token) ||
      HasControl(options.basic_auth_password) ||
      HasControl(options.basic_auth_user)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": a credential contains a line break or control character"));
  }
  for (const auto& [path, name] :
       {std::pair{&options.bearer_token_file, ".bearerTokenFile"},
        {&options.basic_auth_password_file, ".basicAuth.passwordFile"},
        {&options.ca_file, ".caFile"}}) {
    if (path->empty()) continue;
    auto checked = CredentialPath(options.credentials_dir, *path, field + name);
    if (!checked.ok()) return checked.status();
  }
  return absl::OkStatus();
}

PrometheusClient::PrometheusClient(PrometheusOptions options)
    : options_(std::move(options)) {
  TlsConfig tls;
  if (!options_.ca_file.empty()) {
    auto ca = ReadCredential(options_, options_.ca_file,
                             options_.field + ".caFile", false);
    if (ca.ok()) {
      tls.ca_pem = *ca;
    } else {
      setup_ = ca.status();
    }
  }
  transport_ = std::make_unique<HttpTransport>(
      HttpTransportOptions{tls, options_.user_agent, options_.timeout});
}

absl::StatusOr<std::optional<std::string>> PrometheusClient::Authorization()
    const {
  const std::string& field = options_.field;
  std::string token = options_.bearer_token;
  if (!options_.bearer_token_file.empty()) {
    auto read = ReadCredential(options_, options_.bearer_token_file,
                               field + ".bearerTokenFile", true);
    if (!read.ok()) return read.status();
    token = *read;
  }
  if (!token.empty()) return absl::StrCat("Authorization: Bearer ", token);
  if (options_.basic_auth_user.empty()) return std::nullopt;
  std::string password = options_.basic_auth_password;
  if (!options_.basic_auth_password_file.empty()) {
    auto read = ReadCredential(options_, options_.basic_auth_password_file,
                               field + ".basicAuth.passwordFile", true);
    if (!read.ok()) return read.status();
    password = *read;
  }
  return absl::StrCat("Authorization: Basic ",
                      absl::Base64Escape(absl::StrCat(options_.basic_auth_user,
                                                      ":", password)));
}

absl::StatusOr<std::string> PrometheusClient::Get(
    const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& params) const {
  const absl::Time began = absl::Now();
  absl::StatusOr<std::string> body = Fetch(path, params);
  if (options_.observe)
    options_.observe(path, absl::Now() - began, body.status());
  return body;
}

absl::StatusOr<std::string> PrometheusClient::Fetch(
    const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& params) const {
  if (auto s = CheckProviderStatically(options_); !s.ok()) return s;
  if (!setup_.ok()) return setup_;
  const std::string field = options_.field + ".address";
  auto url = ParseHttpUrl(options_.address, field);
  if (!url.ok()) return url.status();
  HttpRequest request;
  auto pinned = CheckedAddresses(*url, options_.address_policy, field);
  if (!pinned.ok()) return pinned.status();
  request.pinned_addresses = std::move(*pinned);
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
  auto authorization = Authorization();
  if (!authorization.ok()) return authorization.status();
  if (*authorization) request.headers.push_back(**authorization);
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
  if (response->status == 200) return std::move(response->body);
  return ErrorAnswerStatus(response->status, response->body,
                           absl::StrCat("Prometheus at ", address));
}

absl::StatusOr<std::vector<Sample>> PrometheusClient::Query(
    const std::string& promql, std::optional<absl::Time> at) const {
  std::vector<std::pair<std::string, std::string>> params = {{"query", promql}};
  if (at) params.emplace_back("time", UnixSeconds(*at));
  auto body = Get("/api/v1/query", params);
  if (!body.ok()) return body.status();
  return ParseQueryResponse(*body);
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
  return ParseRangeResponse(*body);
}

}  // namespace smartcanary::analysis
