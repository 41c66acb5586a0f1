#!/usr/bin/env bash
# scripts/build-images.sh [OUTDIR]: release builds of canaryd, canary-analyzer
# and canaryctl, each packed into an OCI image made only of Debian bookworm
# packages (the shared libraries the binary links, found from its NEEDED
# entries) plus the binary, running as uid/gid 65532.
#
# Writes, per image NAME (default OUTDIR: ~/.cache/smartcanary/images):
#   OUTDIR/NAME/               OCI layout, tag VERSION
#   OUTDIR/NAME-VERSION.tar    docker-archive, for `docker load` / `kind load`
# and prints each image's digest and size. Reproducible: the same commit and
# the same Debian packages give the same digests (SOURCE_DATE_EPOCH is the
# commit time; mmdebstrap and the layer tar are clamped to it).
#
# Push one:  skopeo copy oci:OUTDIR/canaryd:VERSION docker://REGISTRY/smartcanary/canaryd:VERSION
# Environment: SMARTCANARY_DEBIAN_MIRROR (default http://deb.debian.org) to
# use another mirror, e.g. snapshot.debian.org's archive of a release day to
# rebuild an old release bit for bit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${1:-${SMARTCANARY_CACHE:-$HOME/.cache/smartcanary}/images}
mirror=${SMARTCANARY_DEBIAN_MIRROR:-http://deb.debian.org}
uid=65532

log() { echo "[images] $*" >&2; }

install_tools() {
  local missing=()
  for tool in mmdebstrap umoci skopeo jq; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The Debian packages holding the shared libraries BINARY names as NEEDED,
# as installed on this (bookworm) build machine. apt adds their dependencies.
runtime_packages() {
  local binary=$1 lib path owners libs=() paths=()
  for lib in $(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    path=$(ldconfig -p | awk -v lib="$lib" '$1 == lib && /x86-64/ { print $NF; exit }')
    [ -n "$path" ] || { log "$binary needs $lib, which is not installed"; return 1; }
    # dpkg knows a library by the path its package ships: /lib or /usr/lib.
    libs+=("$lib")
    paths+=("/usr${path#/usr}" "${path#/usr}")
  done
  # One dpkg -S for all: each call reads every package's file list.
  owners=$(dpkg -S "${paths[@]}" 2>/dev/null | grep -v '^diversion')
  for lib in "${libs[@]}"; do
    grep -q "/$lib\$" <<<"$owners" || { log "no package ships $lib ($binary needs it)"; return 1; }
  done
  cut -d: -f1 <<<"$owners" | tr -d ' ' | tr , '\n' | sort -u
}

# What a package's maintainer scripts would have added, and the binary, in
# the root filesystem DIR.
customize() {
  local name=$1 binary=$2 r=$3
  install -D -m 0755 "$binary" "$r/usr/local/bin/$name"
  if [ "$name" = canaryctl ]; then
    # kubectl finds plugins on PATH by this name: `kubectl canary ...`.
    ln -s canaryctl "$r/usr/local/bin/kubectl-canary"
  fi
  mkdir -p "$r/etc" "$r/home/nonroot" "$r/tmp"
  chmod 1777 "$r/tmp"
  chown "$uid:$uid" "$r/home/nonroot"
  printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnonroot:x:%s:%s:nonroot:/home/nonroot:/usr/sbin/nologin\n' \
    "$uid" "$uid" > "$r/etc/passwd"
  printf 'root:x:0:\nnonroot:x:%s:\n' "$uid" > "$r/etc/group"
  if [ -d "$r/usr/share/ca-certificates/mozilla" ]; then
    # The bundle update-ca-certificates would make from the same files.
    mkdir -p "$r/etc/ssl/certs"
    (LC_ALL=C; cat "$r"/usr/share/ca-certificates/mozilla/*.crt) > "$r/etc/ssl/certs/ca-certificates.crt"
  fi
  # Documentation is dead weight in an image; the licences stay.
  rm -rf "$r/usr/share/man" "$r/usr/share/info" "$r/usr/share/locale" "$r/usr/share/lintian"
  if [ -d "$r/usr/share/doc" ]; then
    find "$r/usr/share/doc" -type f ! -name copyright -delete
    find "$r/usr/share/doc" -depth -type d -empty -delete
  fi
}

# The root filesystem of one image as a tar: owners numeric, names sorted,
# times clamped to SOURCE_DATE_EPOCH, so that it is the same every time. The
# extract variant unpacks the packages without running their maintainer
# scripts (nor mmdebstrap's hooks): no shell, dpkg or apt ends up in the
# image, and customize makes the little a postinst would have.
build_rootfs() {
  local name=$1 binary=$2 packages=$3 tar=$4 dir="$work/$1.rootfs"
  mmdebstrap --quiet --variant=extract --mode=root --format=directory \
    --include="$packages" bookworm "$dir" \
    "deb $mirror/debian bookworm main" \
    "deb $mirror/debian bookworm-updates main" \
    "deb $mirror/debian-security bookworm-security main"
  customize "$name" "$binary" "$dir"
  # The runtime mounts /dev; device nodes in a layer only get in its way.
  tar --create --file "$tar" --directory "$dir" --sort=name --numeric-owner \
    --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime --exclude='./dev/*' .
  rm -rf "$dir"
}

# An OCI layout OUTDIR/NAME holding one image tagged VERSION.
pack_image() {
  local name=$1 tar=$2 layout="$out/$1"
  local created image="$out/$1:$version"
  created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
  rm -rf "$layout"
  umoci init --layout "$layout"
  umoci new --image "$image"
  umoci raw add-layer --image "$image" --history.created="$created" \
    --history.created_by="scripts/build-images.sh (mmdebstrap bookworm)" "$tar"
  umoci config --image "$image" --no-history --created="$created" \
    --author="Smart Canary" --os=linux --architecture=amd64 \
    --config.user="$uid:$uid" --config.workingdir=/home/nonroot \
    --config.env="PATH=/usr/local/bin:/usr/bin:/bin" \
    --config.entrypoint="/usr/local/bin/$name" \
    --config.label="org.opencontainers.image.title=$name" \
    --config.label="org.opencontainers.image.version=$version" \
    --config.label="org.opencontainers.image.revision=$revision" \
    --config.label="org.opencontainers.image.source=$source_url"
  umoci gc --layout "$layout"
  rm -f "$out/$name-$version.tar"
  skopeo copy --quiet "oci:$layout:$version" \
    "docker-archive:$out/$name-$version.tar:smartcanary/$name:$version"
}

report() {
  local name=$1 tar=$2 layout="$out/$1" manifest digest compressed unpacked
  digest=$(jq -r '.manifests[0].digest' "$layout/index.json")
  manifest="$layout/blobs/sha256/${digest#sha256:}"
  compressed=$(jq '[.layers[].size] | add' "$manifest")
  unpacked=$(tar -tvf "$tar" | awk '{ bytes += $3 } END { print bytes }')
  printf '%-16s %s  layer %s bytes compressed, rootfs %s bytes unpacked\n' \
    "$name" "$digest" "$compressed" "$unpacked"
}

install_tools
version=$(tr -d '[:space:]' < VERSION)
revision=$(git rev-parse HEAD)
source_url=${SMARTCANARY_SOURCE_URL:-$(git config --get remote.origin.url 2>/dev/null || echo unknown)}
if ! git diff-index --quiet HEAD --; then
  log "warning: uncommitted changes: the images are not the commit's (revision $revision-dirty)"
  revision="$revision-dirty"
fi
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct HEAD)
export SOURCE_DATE_EPOCH

# Release binaries: optimized, stripped, stamped with the revision. No
# bazel-bin symlinks: they would point the tests' and scripts' paths at these.
opt=(-c opt --strip=always --stamp --workspace_status_command="$root/scripts/workspace-status.sh"
  --symlink_prefix=/)
bazel build "${opt[@]}" //controller:canaryd //analysis:canary-analyzer //cli:canaryctl
bin=$(bazel info "${opt[@]}" bazel-bin 2>/dev/null)
mkdir -p "$out"
work=$(mktemp -d /tmp/smartcanary-images.XXXXXX)
trap 'rm -rf "$work"' EXIT
declare -A binaries=([canaryd]=controller/canaryd [canary-analyzer]=analysis/canary-analyzer
  [canaryctl]=cli/canaryctl)
summary=()
for name in canaryd canary-analyzer canaryctl; do
  binary="$bin/${binaries[$name]}"
  packages=$(runtime_packages "$binary" | paste -sd, -)
  # canaryd and the analyzer dial HTTPS (API server, Prometheus, Grafana).
  [ "$name" = canaryctl ] || packages+=",ca-certificates"
  log "$name: $packages"
  build_rootfs "$name" "$binary" "$packages" "$work/$name.tar"
  pack_image "$name" "$work/$name.tar"
  summary+=("$(report "$name" "$work/$name.tar")")
done
printf '%s\n' "${summary[@]}"
echo "push: skopeo copy oci:$out/NAME:$version docker://REGISTRY/smartcanary/NAME:$version"
