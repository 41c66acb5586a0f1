#!/usr/bin/env bash
# tests/image/image_test.sh OUTDIR: checks the images scripts/build-images.sh
# wrote to OUTDIR. Each is unpacked with umoci and its binary run from the
# image's own root filesystem (chroot, as the user the image configures), so
# a library missing from the image fails here, not in a cluster. Ends with
# "N passed, N failed" (scripts/test.sh adds it to its total). Needs root
# (umoci unpack keeps owners; chroot).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: image_test.sh OUTDIR (of scripts/build-images.sh)}
version=$(tr -d '[:space:]' < "$root/VERSION")
revision=$(git -C "$root" rev-parse HEAD)
git -C "$root" diff-index --quiet HEAD -- || revision="$revision-dirty"
passed=0
failed=0

check() {  # check DESCRIPTION COMMAND...: one test case
  if "${@:2}"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $1" >&2
  fi
}

equals() {  # equals WHAT ACTUAL EXPECTED
  [ "$2" = "$3" ] || { echo "  $1: got \"$2\", want \"$3\"" >&2; return 1; }
}

contains() {  # contains WHAT TEXT NEEDLE
  case "$2" in *"$3"*) return 0 ;; esac
  echo "  $1: \"$3\" not in: ${2:0:400}" >&2
  return 1
}

[ "$(id -u)" -eq 0 ] || { echo "image_test.sh: needs root (umoci unpack, chroot)" >&2; echo "0 passed, 1 failed"; exit 1; }
work=$(mktemp -d /tmp/smartcanary-image-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

for name in canaryd canary-analyzer canaryctl; do
  layout="$out/$name"
  manifest_digest=$(jq -r --arg tag "$version" \
    '.manifests[] | select(.annotations."org.opencontainers.image.ref.name" == $tag) | .digest' \
    "$layout/index.json" 2>/dev/null)
  check "$name: OCI layout $layout has tag $version" test -n "$manifest_digest"
  [ -n "$manifest_digest" ] || continue
  config_digest=$(jq -r '.config.digest' "$layout/blobs/sha256/${manifest_digest#sha256:}")
  config="$layout/blobs/sha256/${config_digest#sha256:}"
  label() { jq -r --arg key "$1" '.config.Labels[$key] // ""' "$config"; }
  check "$name: label version" equals version "$(label org.opencontainers.image.version)" "$version"
  check "$name: label revision" equals revision "$(label org.opencontainers.image.revision)" "$revision"
  check "$name: label title" equals title "$(label org.opencontainers.image.title)" "$name"
  check "$name: label source" test -n "$(label org.opencontainers.image.source)"
  user=$(jq -r '.config.User // ""' "$config")
  check "$name: runs as uid/gid 65532" equals User "$user" "65532:65532"
  check "$name: entrypoint is the binary" equals Entrypoint \
    "$(jq -c '.config.Entrypoint' "$config")" "[\"/usr/local/bin/$name\"]"
  check "$name: docker-archive written" test -s "$out/$name-$version.tar"

  bundle="$work/$name"
  if ! umoci unpack --image "$layout:$version" "$bundle" >/dev/null 2>&1; then
    check "$name: umoci unpack" false
    continue
  fi
  rootfs="$bundle/rootfs"
  # The runtime spec umoci derived from the image: the process's user.
  check "$name: runtime spec user is 65532" equals uid \
    "$(jq -r '.process.user.uid' "$bundle/config.json")" 65532
  check "$name: no shell in the image" test ! -e "$rootfs/bin/sh"
  run() { chroot --userspec="$user" "$rootfs" "$@" 2>&1; }
  output=$(run "/usr/local/bin/$name" --version)
  check "$name --version from the image as $user" equals "--version" \
    "$output" "$name $version (revision $revision)"
  if [ "$name" = canaryctl ]; then
    output=$(run /usr/local/bin/kubectl-canary --help)
    check "kubectl-canary link in the image" contains "kubectl-canary --help" \
      "$output" "Usage: kubectl canary COMMAND"
  else
    output=$(run "/usr/local/bin/$name" --help)
    check "$name --help from the image" contains "--help" "$output" "Usage: $name [flags]"
    check "$name: CA bundle for HTTPS" test -s "$rootfs/etc/ssl/certs/ca-certificates.crt"
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
