#!/usr/bin/env bash
# Installs every Debian package the build, tests and demo need. Idempotent and
# quiet when everything is present.
set -euo pipefail
packages=(
  bazel-bootstrap bazel-bootstrap-source pkg-config clang-format
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libcurl4-openssl-dev nlohmann-json3-dev libabsl-dev libspdlog-dev
  libgtest-dev libgmock-dev libyaml-cpp-dev
  openssl curl ca-certificates jq prometheus python3-scipy
  clang-14 libclang-rt-14-dev  # libFuzzer and sanitizer runtimes: scripts/fuzz.sh
  mmdebstrap umoci skopeo  # the images: scripts/build-images.sh
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] installing: ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the packaged Prometheus as a service; tests run their own.
  if command -v systemctl >/dev/null 2>&1; then $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
fi
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH=/usr/local/go/bin:$PATH
fi
command -v go >/dev/null 2>&1 || {
  echo "[setup] Go 1.24+ is needed to build the test fixtures (kube-apiserver, etcd)" >&2
  exit 1
}
