#!/bin/sh
# version_info.sh VERSION_FILE [STABLE_STATUS_FILE]: writes the C++ file that
# defines smartcanary::version_internal::kVersion and kRevision. Bazel's
# stable-status.txt is given only to stamped builds; without it the revision
# is "unknown".
set -eu
version=$(tr -d '[:space:]' < "$1")
revision=unknown
if [ $# -ge 2 ]; then
  revision=$(sed -n 's/^STABLE_GIT_REVISION //p' "$2")
  [ -n "$revision" ] || revision=unknown
fi
# Both land in a C string literal: allow only what versions and git
# revisions are made of.
for value in "$version" "$revision"; do
  case "$value" in
    "" | *[!0-9A-Za-z.+-]*)
      echo "version_info.sh: \"$value\" is not a version or revision (0-9 A-Z a-z . + - only)" >&2
      exit 1
      ;;
  esac
done
cat <<CC
namespace smartcanary::version_internal {
extern const char kVersion[] = "$version";
extern const char kRevision[] = "$revision";
}  // namespace smartcanary::version_internal
CC
