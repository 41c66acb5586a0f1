#!/usr/bin/env bash
# The side-by-side benchmark against Argo Rollouts in one command: a local
# control plane (scripts/local-cluster.sh) with Argo's CRDs and
# kube-controller-manager (ReplicaSets make pods; no kubelet runs here, the
# benchmark's pod-readiness stand-in marks them ready), canaryd built with
# -c opt, and for each N canaryd's run then Argo's; teardown; then the
# results and the machine go into docs/PERFORMANCE.md (between its results
# markers; the rest of the document is kept).
#
#   bench/argo/compare.sh [N ...]     default: 10 100 1000
#
# Logs of the controllers, kube-controller-manager, the stand-in, the
# analyzer and Prometheus: $ARGO_COMPARE_DIR/logs (default /tmp/argo-compare).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
work=${ARGO_COMPARE_DIR:-/tmp/argo-compare}
cluster=$work/cluster
doc=$root/docs/PERFORMANCE.md
log() { echo "[argo-compare] $*" >&2; }
counts=("$@"); [ ${#counts[@]} -gt 0 ] || counts=(10 100 1000)
for n in "${counts[@]}"; do
  [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 2 ] || { echo "N must be a whole number of at least 2, not \"$n\"" >&2; exit 2; }
done
list=$(IFS=,; echo "${counts[*]}")

bazel build -c opt //bench/argo:argo_compare
bin=$(bazel info -c opt bazel-bin)/bench/argo/argo_compare
fixtures=$(scripts/build-fixtures.sh)
rm -rf "$work/logs"; mkdir -p "$work/logs"
kcm_pid=; sampler_pid=
cleanup() {
  [ -z "$sampler_pid" ] || kill "$sampler_pid" 2>/dev/null || true
  [ -z "$kcm_pid" ] || kill "$kcm_pid" 2>/dev/null || true
  scripts/local-cluster.sh down "$cluster"
}
trap cleanup EXIT
scripts/local-cluster.sh up "$cluster"
kubectl="$fixtures/kubectl --kubeconfig $cluster/kubeconfig"
# Server-side: Argo's CRDs are too large for client-side apply's annotation.
$kubectl apply --server-side -f "$(dirname "$fixtures")/argo-rollouts-crds.yaml" >/dev/null
$kubectl wait --for condition=established --timeout=60s \
  crd/rollouts.argoproj.io crd/analysisruns.argoproj.io crd/analysistemplates.argoproj.io >/dev/null
# Only the ReplicaSet controller (pods for Argo's ReplicaSets) and the
# ServiceAccount controller (the `default` account pods are admitted with);
# its client limits raised so that it never paces Argo at 1,000 rollouts.
"$fixtures/kube-controller-manager" --kubeconfig="$cluster/kubeconfig" \
  --controllers=replicaset,serviceaccount --leader-elect=false --secure-port=0 \
  --kube-api-qps=500 --kube-api-burst=1000 --concurrent-replicaset-syncs=20 \
  > "$work/logs/kube-controller-manager.log" 2>&1 &
kcm_pid=$!
# The 1-minute load average every 10 s over the run (the machine is shared).
(while sleep 10; do cut -d' ' -f1 /proc/loadavg; done) > "$work/load.txt" &
sampler_pid=$!

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date -u +%Y-%m-%dT%H:%MZ)
KUBECONFIG=$cluster/kubeconfig "$bin" --rollouts="$list" --out="$work/results.md" \
  --log_dir="$work/logs" --argo_controller="$fixtures/rollouts-controller"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
load_during=$(sort -n "$work/load.txt" | awk 'NR == 1 {min = $1} {max = $1} END {if (NR) printf "%s–%s", min, max; else printf "–"}')

{
  echo "<!-- results:begin (written by bench/argo/compare.sh) -->"
  echo "Run $start by \`bench/argo/compare.sh ${counts[*]}\` at commit" \
    "\`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- controller analysis bench || echo ' (with local changes)')."
  echo
  echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))," \
    "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) memory, $(uname -sr)." \
    "1-minute load average $load_before before, $load_during during (every 10 s) and $load_after after" \
    "the run: the machine is shared with other builds. kube-apiserver and kube-controller-manager" \
    "$("$fixtures/kube-apiserver" --version | awk '{print $2}'), etcd" \
    "$("$fixtures/etcd" --version | awk '/etcd Version/ {print $3}'), Prometheus" \
    "$(/usr/bin/prometheus --version 2>&1 | awk 'NR == 1 {print $3}'), Argo Rollouts" \
    "$(basename "$(readlink "$fixtures/rollouts-controller")" | sed 's/^rollouts-controller-//'), canaryd built with \`-c opt\`."
  echo
  cat "$work/results.md"
  echo "<!-- results:end -->"
} > "$work/results-block.md"

if [ -f "$doc" ] && grep -q '^<!-- results:begin' "$doc"; then
  sed -i -e "/^<!-- results:begin/,/^<!-- results:end/{/^<!-- results:end/r $work/results-block.md" -e 'd}' "$doc"
else
  { echo "# Smart Canary and Argo Rollouts side by side"; echo; cat "$work/results-block.md"; } > "$doc"
fi
log "results written to $doc"
