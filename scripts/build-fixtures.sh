#!/usr/bin/env bash
# Builds the third-party binaries the tests run (kube-apiserver, kubectl, etcd,
# grpcurl, Argo Rollouts' controller) from the upstream Go modules pinned in tests/fixtures/, and
# fetches Istio's CRDs from the istio.io/api module. Results are cached by
# version, so a second run builds nothing. Prints the cache's bin folder.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures="$root/tests/fixtures/controlplane"
cache="${SMARTCANARY_CACHE:-$HOME/.cache/smartcanary}"
bin="$cache/bin"
mkdir -p "$bin"
export GOFLAGS=-mod=mod

k8s_version=$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' "$fixtures/kube-apiserver/go.mod")
grpcurl_version=$(awk '$1=="require" && $2=="github.com/fullstorydev/grpcurl" {print $3}' "$root/tests/fixtures/grpcurl/go.mod")
etcd_version=$(awk '$1=="require" && $2=="go.etcd.io/etcd/server/v3" {print $3}' "$fixtures/etcd/go.mod")
istio_api_version=v1.27.3
argo_fixture="$root/tests/fixtures/argo-rollouts"
argo_version=$(awk '$1=="require" && $2=="github.com/argoproj/argo-rollouts" {print $3}' "$argo_fixture/go.mod")

log() { echo "[build-fixtures] $*" >&2; }

build() {  # build NAME VERSION MODULE_DIR PACKAGE [LDFLAGS]
  local name=$1 version=$2 dir=$3 package=$4 ldflags=${5:-}
  local out="$bin/$name-$version"
  if [ ! -x "$out" ]; then
    log "building $name $version (first run only; cached in $bin)"
    local start=$SECONDS
    (cd "$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$package")
    mv "$out.tmp" "$out"
    log "built $name in $((SECONDS - start))s"
  fi
  ln -sf "$out" "$bin/$name"
}

minor=${k8s_version#v1.}; minor=${minor%%.*}
stamp="-X k8s.io/component-base/version.gitVersion=$k8s_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
build etcd "$etcd_version" "$fixtures/etcd" go.etcd.io/etcd/server/v3
build kube-apiserver "$k8s_version" "$fixtures/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver "$stamp"
build kubectl "$k8s_version" "$fixtures/kube-apiserver" k8s.io/kubernetes/cmd/kubectl "$stamp"
# kube-controller-manager: its ReplicaSet controller makes the pods Argo Rollouts waits for
# (bench/argo/; no kubelet runs here, a stand-in marks the pods ready).
build kube-controller-manager "$k8s_version" "$fixtures/kube-apiserver" k8s.io/kubernetes/cmd/kube-controller-manager "$stamp"
# grpcurl: the RolloutService called as a user would, with a bearer token.
build grpcurl "$grpcurl_version" "$root/tests/fixtures/grpcurl" github.com/fullstorydev/grpcurl/cmd/grpcurl

# Argo Rollouts' controller: the interop test runs AnalysisRuns with it (and
# a benchmark compares against it); its CRDs from the same module.
build rollouts-controller "$argo_version" "$argo_fixture" github.com/argoproj/argo-rollouts/cmd/rollouts-controller \
  "-X github.com/argoproj/argo-rollouts/utils/version.version=$argo_version"
argo_crds="$cache/argo-rollouts-crds-$argo_version.yaml"
if [ ! -s "$argo_crds" ]; then
  log "taking Argo Rollouts' CRDs from github.com/argoproj/argo-rollouts@$argo_version"
  dir=$(cd "$argo_fixture" && go list -m -f '{{.Dir}}' github.com/argoproj/argo-rollouts)
  for crd in rollout experiment analysis-run analysis-template cluster-analysis-template; do
    echo "---"
    cat "$dir/manifests/crds/$crd-crd.yaml"
  done > "$argo_crds.tmp"
  mv "$argo_crds.tmp" "$argo_crds"
fi
ln -sf "$argo_crds" "$cache/argo-rollouts-crds.yaml"

crds="$cache/istio-crds-$istio_api_version.yaml"
if [ ! -s "$crds" ]; then
  log "fetching Istio CRDs from istio.io/api@$istio_api_version"
  dir=$(cd "$fixtures/etcd" && go mod download -json "istio.io/api@$istio_api_version" | awk -F'"' '$2=="Dir" {print $4}')
  cp "$dir/kubernetes/customresourcedefinitions.gen.yaml" "$crds.tmp"
  mv "$crds.tmp" "$crds"
fi
ln -sf "$crds" "$cache/istio-crds.yaml"
echo "$bin"
