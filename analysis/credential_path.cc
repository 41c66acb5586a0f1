#include "analysis/credential_path.h"

#include <climits>
#include <cstdlib>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace smartcanary::analysis {
namespace {

// "/a//b/./c/" -> "/a/b/c"; nullopt when a component is "..".
std::optional<std::string> Normalise(absl::string_view path) {
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") return std::nullopt;
    parts.push_back(part);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

bool Inside(absl::string_view path, absl::string_view dir) {
  if (dir == "/") return true;
  return absl::StartsWith(path, dir) && path.size() > dir.size() &&
         path[dir.size()] == '/';
}

absl::StatusOr<std::string> RealPath(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr)
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  return std::string(resolved);
}

}  // namespace

absl::StatusOr<std::string> CredentialPath(absl::string_view dir,
                                           absl::string_view path,
                                           absl::string_view field) {
  auto refuse = [&](absl::string_view why) {
    return absl::PermissionDeniedError(
        absl::StrCat(field, ": \"", path, "\" ", why));
  };
  if (path.empty()) return refuse("is empty");
  if (path.find('\0') != absl::string_view::npos)
    return refuse("contains a NUL byte");
  const std::optional<std::string> base = Normalise(dir);
  const std::optional<std::string> full =
      Normalise(absl::StartsWith(path, "/") ? std::string(path)
                                            : absl::StrCat(dir, "/", path));
  if (!base || !full) return refuse("must not contain \"..\"");
  if (!Inside(*full, *base)) {
    return refuse(
        absl::StrCat("is outside the analyzer's credentials "
                     "directory ",
                     *base, " (--credentials-dir)"));
  }
  return *full;
}

absl::StatusOr<std::string> ResolveCredentialPath(absl::string_view dir,
                                                  absl::string_view path,
                                                  absl::string_view field) {
  auto lexical = CredentialPath(dir, path, field);
  if (!lexical.ok()) return lexical.status();
  auto base = RealPath(std::string(dir));
  auto real = RealPath(*lexical);
  if (!base.ok() || !real.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": cannot read ", *lexical));
  }
  if (!Inside(*real, *base)) {
    return absl::PermissionDeniedError(
        absl::StrCat(field, ": \"", path,
                     "\" leads (through a symbolic link) outside the "
                     "analyzer's credentials directory ",
                     *base, " (--credentials-dir)"));
  }
  return *real;
}

}  // namespace smartcanary::analysis
