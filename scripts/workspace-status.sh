#!/usr/bin/env bash
# Bazel's --workspace_status_command for release builds (scripts/build-images.sh):
# STABLE_ keys land in bazel-out/stable-status.txt, which common:version_info
# reads under --stamp. A tree with uncommitted changes is marked "-dirty".
set -euo pipefail
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$revision" != unknown ] && ! git diff-index --quiet HEAD -- 2>/dev/null; then
  revision="$revision-dirty"
fi
echo "STABLE_GIT_REVISION $revision"
