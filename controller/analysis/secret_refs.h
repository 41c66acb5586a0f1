#ifndef SMARTCANARY_CONTROLLER_ANALYSIS_SECRET_REFS_H_
#define SMARTCANARY_CONTROLLER_ANALYSIS_SECRET_REFS_H_

#include <functional>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "smartcanary/v1/analysis.pb.h"

// Argo Rollouts' way of giving a provider credentials: a key of a Secret,
//   bearerToken: {secretKeyRef: {name: prom-auth, key: token}}
//   basicAuth: {username: u, password: {secretKeyRef: {name: s, key: k}}}
// canaryd reads the Secret in the rollout's own namespace (a cluster-scoped
// template too: the rollout's team owns the credential) and hands the value
// to the analyzer with the call; it is never stored in a status or logged.
namespace smartcanary {

// The fields of `provider.prometheus` (and of its basicAuth) this file
// reads, for the parser's unknown-field check.
inline constexpr char kBearerTokenField[] = "bearerToken";
inline constexpr char kBasicAuthPasswordField[] = "password";

// Reads bearerToken and basicAuth.password of `prom` (at `path`) into
// `out`'s *_secret references. Errors name the field: a wrong type, a
// missing or invalid name or key, or both a secret and a file given.
absl::Status ParseSecretRefs(const nlohmann::json& prom,
                             const std::string& path,
                             v1::PrometheusProvider* out);

// The value of `key` in Secret `name` of namespace `ns`.
using SecretReader = std::function<absl::StatusOr<std::string>(
    const std::string& ns, const std::string& name, const std::string& key)>;

// Replaces the provider's secret references with their values read from
// namespace `ns`. Errors name `path`'s field and the Secret, never the
// value; a value with a line break or other control character is refused
// (it would end up in an HTTP header).
absl::Status FillSecrets(const std::string& ns, const SecretReader& read,
                         const std::string& path,
                         v1::PrometheusProvider* provider);

// FillSecrets for whichever provider a metric has.
absl::Status FillMetricSecrets(const std::string& ns, const SecretReader& read,
                               v1::Metric* metric);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ANALYSIS_SECRET_REFS_H_
