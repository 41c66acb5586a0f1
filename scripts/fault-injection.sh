#!/usr/bin/env bash
# The long fault-injection run: the test command's fault_injection_test with
# more SIGKILLs (default 100) on a control plane of its own.
#   scripts/fault-injection.sh [KILLS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH=/usr/local/go/bin:$PATH
"$root/scripts/setup.sh"
work=$(mktemp -d /tmp/smartcanary-fault.XXXXXX)
trap '"$root/scripts/local-cluster.sh" down "$work/cluster" >/dev/null 2>&1' EXIT
"$root/scripts/local-cluster.sh" up "$work/cluster"
bazel test //tests/integration:fault_injection_test --test_output=all \
  --test_env=KUBECONFIG="$work/cluster/kubeconfig" \
  --test_env=SMARTCANARY_CLUSTER_DIR="$work/cluster" \
  --test_env=SMARTCANARY_FAULT_KILLS="${1:-100}" --test_timeout=1800 |
  grep -E "fault injection|PASSED|FAILED|Failure"
