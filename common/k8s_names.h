#ifndef SMARTCANARY_COMMON_K8S_NAMES_H_
#define SMARTCANARY_COMMON_K8S_NAMES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

// Kubernetes' rules for names, label keys and label values (the same checks
// as apimachinery's validation package). A name that passes cannot hold
// '/', '..', '%', spaces or anything else that would change the meaning of
// an API path, a label selector or a PromQL matcher it is put into.
namespace smartcanary {

inline constexpr size_t kMaxSubdomainLength = 253;
inline constexpr size_t kMaxLabelLength = 63;

// Object names (most kinds): lowercase alphanumerics, '-' and '.', starting
// and ending alphanumeric, at most 253 characters. The error says what is
// wrong, e.g. `"../x" is not a valid name: ...`.
absl::Status ValidateDns1123Subdomain(absl::string_view name);

// Namespaces, Service names, subset names: lowercase alphanumerics and '-',
// starting and ending alphanumeric, at most 63 characters.
absl::Status ValidateDns1123Label(absl::string_view name);

// A label key: an optional DNS-1123 subdomain prefix and '/', then a name
// part of at most 63 alphanumerics, '-', '_', '.', alphanumeric at both ends.
absl::Status ValidateLabelKey(absl::string_view key);

// A label value: empty, or at most 63 alphanumerics, '-', '_', '.',
// alphanumeric at both ends.
absl::Status ValidateLabelValue(absl::string_view value);

// `segment` percent-encoded for one segment of a URL path: everything but
// unreserved characters is escaped, so '/', '?', '#' and '%' can never be
// read as structure by the server.
std::string EscapePathSegment(absl::string_view segment);

}  // namespace smartcanary

#endif  // SMARTCANARY_COMMON_K8S_NAMES_H_
