#ifndef SMARTCANARY_ANALYSIS_CREDENTIAL_PATH_H_
#define SMARTCANARY_ANALYSIS_CREDENTIAL_PATH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// Where a template's bearerTokenFile, basicAuth.passwordFile and caFile may
// point: under the one directory the operator mounts credentials into
// (--credentials-dir). Otherwise a template could name /etc/shadow or the
// analyzer's own service-account token and have it sent to its address.
namespace smartcanary::analysis {

inline constexpr char kDefaultCredentialsDir[] =
    "/etc/canary-analyzer/credentials";

// Pure: `path` (absolute, or relative to `dir`) normalised and inside `dir`.
// A `..` component is refused outright rather than resolved. Errors name
// `field`.
absl::StatusOr<std::string> CredentialPath(absl::string_view dir,
                                           absl::string_view path,
                                           absl::string_view field);

// CredentialPath, then symbolic links resolved (realpath): the file the
// path really names must still lie inside `dir` (itself resolved). Returns
// that resolved path, the one to read.
absl::StatusOr<std::string> ResolveCredentialPath(absl::string_view dir,
                                                  absl::string_view path,
                                                  absl::string_view field);

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_CREDENTIAL_PATH_H_
