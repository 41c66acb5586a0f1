#!/usr/bin/env bash
# The controller scale benchmark in one command: a local control plane
# (scripts/local-cluster.sh), canaryd built with -c opt, runs at 10, 100 and
# 1,000 concurrent rollouts, teardown; then the results table and the
# machine it ran on go into docs/CONTROLLER-SCALE.md (between its results
# markers; the rest of the document is kept).
#
#   bench/controller-scale.sh [benchmark flags, e.g. --rollouts=10,100]
#
# Logs of canaryd, canary-analyzer and Prometheus: $CONTROLLER_SCALE_DIR/logs
# (default /tmp/controller-scale).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=${CONTROLLER_SCALE_DIR:-/tmp/controller-scale}
cluster=$work/cluster
doc=$root/docs/CONTROLLER-SCALE.md
log() { echo "[controller-scale] $*" >&2; }

bazel build -c opt //bench:controller_scale
bin=$(bazel info -c opt bazel-bin)/bench/controller_scale
rm -rf "$work/logs"; mkdir -p "$work/logs"
trap 'scripts/local-cluster.sh down "$cluster"' EXIT
scripts/local-cluster.sh up "$cluster"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date -u +%Y-%m-%dT%H:%MZ)
KUBECONFIG=$cluster/kubeconfig "$bin" --out="$work/results.md" \
  --log_dir="$work/logs" "$@"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

fixtures=$(scripts/build-fixtures.sh)
{
  echo "<!-- results:begin (written by bench/controller-scale.sh) -->"
  echo "Run $start by \`bench/controller-scale.sh${*:+ $*}\` at commit" \
    "\`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- controller analysis || echo ' (with local changes)')."
  echo
  echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))," \
    "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) memory, $(uname -sr);" \
    "load average $load_before before and $load_after after the run (the machine is shared)." \
    "kube-apiserver $("$fixtures/kube-apiserver" --version | awk '{print $2}'), etcd" \
    "$("$fixtures/etcd" --version | awk '/etcd Version/ {print $3}'), Prometheus" \
    "$(/usr/bin/prometheus --version 2>&1 | awk 'NR == 1 {print $3}'), canaryd built with \`-c opt\`."
  echo
  cat "$work/results.md"
  echo "<!-- results:end -->"
} > "$work/results-block.md"

if [ -f "$doc" ] && grep -q '^<!-- results:begin' "$doc"; then
  awk -v block="$work/results-block.md" '
    /^<!-- results:begin/ { while ((getline line < block) > 0) print line; skip = 1; next }
    /^<!-- results:end/ { skip = 0; next }
    !skip { print }' "$doc" > "$doc.tmp"
  mv "$doc.tmp" "$doc"
else
  { echo "# canaryd at scale"; echo; cat "$work/results-block.md"; } > "$doc"
fi
log "results written to $doc"
