#!/usr/bin/env bash
# The local demo: on a real kube-apiserver + etcd with Istio's CRDs, Debian's
# Prometheus, canary-analyzer, canaryd, and stand-ins for Envoy and Grafana
# (neither can run here), roll out a good v2 to Healthy through analysis,
# then a bad v3 (5% gRPC errors) that is rolled back automatically.
# Exits non-zero if either outcome differs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH=/usr/local/go/bin:$PATH
# shellcheck source=lib.sh
. "$root/scripts/lib.sh"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step() { printf '   %s\n' "$*"; }

say "setting up (packages, control-plane binaries, build)"
scripts/setup.sh
scripts/build-fixtures.sh >/dev/null
bazel build -c opt //controller:canaryd //analysis:canary-analyzer //cli:canaryctl \
  //examples/rpc-server //tests/fixtures/mesh_standin:mesh-standin \
  //tests/fixtures/grafana_contract:grafana-contract 2>&1 | grep -E '^(ERROR|FAILED)' >&2 || true
bin=$(bazel info -c opt bazel-bin 2>/dev/null)
for b in controller/canaryd analysis/canary-analyzer cli/canaryctl examples/rpc-server/rpc-server; do
  [ -x "$bin/$b" ] || { echo "build failed: $b" >&2; exit 1; }
done

work=${DEMO_DIR:-/tmp/smartcanary-demo}
rm -rf "$work"; mkdir -p "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/local-cluster.sh down "$work/cluster" >/dev/null 2>&1 || true
}
trap cleanup EXIT
start() {  # start NAME COMMAND...: runs in the background, logs to $work/NAME.log
  local name=$1; shift
  "$@" > "$work/$name.log" 2>&1 &
  pids+=($!)
}

say "starting a real control plane (kube-apiserver + etcd, Istio CRDs)"
scripts/local-cluster.sh up "$work/cluster"
export KUBECONFIG=$work/cluster/kubeconfig
kubectl="$HOME/.cache/smartcanary/bin/kubectl"
[ -n "${SMARTCANARY_CACHE:-}" ] && kubectl="$SMARTCANARY_CACHE/bin/kubectl"

v1=$(free_port); v2=$(free_port); v3=$(free_port)
grafana=$(free_port); analyzer=$(free_port); grpc=$(free_port); http=$(free_port)
mesh=$(free_port); prom=$(free_port)

say "starting rpc-server v1 (stable), v2 (good), v3 (bad: 5% UNAVAILABLE)"
start rpc-v1 "$bin/examples/rpc-server/rpc-server" --listen "127.0.0.1:$v1" --version v1
start rpc-v2 "$bin/examples/rpc-server/rpc-server" --listen "127.0.0.1:$v2" --version v2
start rpc-v3 "$bin/examples/rpc-server/rpc-server" --listen "127.0.0.1:$v3" --version v3 --error-fraction 0.05

say "starting the Grafana contract server, canary-analyzer and canaryd"
echo demo-token > "$work/grafana-token"
start grafana "$bin/tests/fixtures/grafana_contract/grafana-contract" --listen "127.0.0.1:$grafana" \
  --token demo-token --record "$work/annotations.jsonl"
# canaryd and the analyzer share a token; Prometheus here is on loopback.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/analyzer-token"
start analyzer "$bin/analysis/canary-analyzer" --grpc-listen "127.0.0.1:$analyzer" \
  --client-token-file "$work/analyzer-token" --allowed-prometheus 127.0.0.0/8
# Plaintext on loopback for the demo; canaryctl still sends the kubeconfig's
# token, which canaryd checks with TokenReview and SubjectAccessReview.
start canaryd "$bin/controller/canaryd" --grpc-listen "127.0.0.1:$grpc" --http-listen "127.0.0.1:$http" \
  --grpc-insecure --analyzer "127.0.0.1:$analyzer" --analyzer-token-file "$work/analyzer-token" \
  --grafana-url "http://127.0.0.1:$grafana" \
  --grafana-token-file "$work/grafana-token"
wait_http "http://127.0.0.1:$http/healthz"
export SMARTCANARY_SERVER=127.0.0.1:$grpc
canaryctl="$bin/cli/canaryctl --insecure"

say "applying the article's VirtualService, DestinationRule and analysis templates"
$kubectl apply -f manifests/examples/rpc-server/virtualservice.yaml \
  -f manifests/examples/rpc-server/destinationrule.yaml \
  -f manifests/examples/rpc-server/canary-success-rate.yaml \
  -f manifests/examples/rpc-server/canary-vs-baseline.yaml | sed 's/^/   /'

say "starting the mesh stand-in (50 req/s split by the VirtualService) and Prometheus"
start mesh "$bin/tests/fixtures/mesh_standin/mesh-standin" --kubeconfig "$KUBECONFIG" \
  --backends "v1=127.0.0.1:$v1,v2=127.0.0.1:$v2,v3=127.0.0.1:$v3" --rps 50 --listen "127.0.0.1:$mesh"
cat > "$work/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
- job_name: mesh
  static_configs: [{targets: ["127.0.0.1:$mesh"]}]
- job_name: canaryd
  static_configs: [{targets: ["127.0.0.1:$http"]}]
YML
start prometheus prometheus --config.file "$work/prometheus.yml" --storage.tsdb.path "$work/prometheus-data" \
  --web.listen-address "127.0.0.1:$prom"
wait_http "http://127.0.0.1:$prom/-/ready"
step "Prometheus on 127.0.0.1:$prom scraping every 1s"

rollout() {  # rollout VERSION STABLE_VERSION: the CanaryRollout for that version
  cat <<YML
apiVersion: smartcanary.dev/v1alpha1
kind: CanaryRollout
metadata: {name: rpc-server, namespace: default}
spec:
  canaryLabels: {version: $1}
  trafficRouting:
    istio:
      virtualService: {name: rpc-server, routes: [primary]}
      destinationRule: {name: rpc-server, stableSubsetName: stable, canarySubsetName: canary}
  earlyPromotion: true
  analysis:
    startingStep: 1
    templates: [{templateName: canary-vs-baseline, clusterScope: true}]
    args:
    - {name: prometheus, value: "http://127.0.0.1:$prom"}
    - {name: service, value: rpc-server}
    - {name: canary-version, value: $1}
    - {name: stable-version, value: $2}
  steps:
  - setWeight: 20
  - pause: {duration: 30s}
  - setWeight: 50
  - pause: {duration: 15s}
  - setWeight: 100
  - pause: {duration: 10s}
YML
}

# Seconds from the rollout's first non-zero canary weight to its last change
# (the rollback to 0), from the weight timeline canaryd records.
rollback_seconds() {
  $kubectl get canaryrollout rpc-server -o json | jq -r '
    .status.weightHistory as $h
    | ($h | map(select(.canaryWeight > 0)) | first | .at) as $first
    | def secs: sub("\\.[0-9]+"; "") | sub("\\+00:00$"; "Z") | fromdateiso8601;
      ($h | last | .at | secs) - ($first | secs)'
}

# run_rollout VERSION STABLE_VERSION: submit, follow to the end, show the
# tree; returns canaryctl status's exit code (0 Healthy, 1 Degraded).
run_rollout() {
  rollout "$1" "$2" > "$work/rollout-$1.yaml"
  $canaryctl start -f "$work/rollout-$1.yaml"
  local code
  set +e  # a Degraded rollout is an outcome here, not a script failure
  $canaryctl status rpc-server --timeout 300s | sed 's/^/   /'
  code=${PIPESTATUS[0]}
  set -e
  $canaryctl get rpc-server | sed 's/^/   /'
  return "$code"
}

demo_start=$SECONDS
say "rollout 1: v2 (a good version) — 20% → 50% → 100% → promoted, judged against v1 all along"
good=0; run_rollout v2 v1 || good=$?

say "rollout 2: v3 (5% of calls fail) — the smart judge must roll it back automatically"
bad=0; run_rollout v3 v2 || bad=$?
weights=$($kubectl get virtualservice rpc-server -o jsonpath='{.spec.http[0].route[*].weight}')
rollback=$(rollback_seconds)

say "Grafana annotations received (by the contract server)"
jq -r '"   \(.tags[-1] | . + " " * (12 - length)) \(.text[:110])"' "$work/annotations.jsonl" | tail -n 12

say "summary"
ok=0
if [ "$good" -eq 0 ]; then step "✔ v2 promoted: Healthy"; else step "✖ v2 did not reach Healthy (exit $good)"; ok=1; fi
if [ "$bad" -eq 1 ]; then step "✔ v3 rolled back automatically: Degraded"; else step "✖ v3 was not rolled back (exit $bad)"; ok=1; fi
if $canaryctl get rpc-server -o json | jq -e '.message | test("canary worse than")' >/dev/null; then
  step "✔ the smart judge (canary vs baseline, anytime-valid) made the call:"
  $canaryctl get rpc-server -o json | jq -r '.message' | fold -w 100 | sed 's/^/       /'
else
  step "✖ the rollback was not the smart judge's verdict"; ok=1
fi
if [ "$weights" = "100 0" ]; then step "✔ VirtualService reads stable 100 / canary 0"; else step "✖ VirtualService weights: $weights"; ok=1; fi
step "v3 was rolled back ${rollback}s after it first took traffic"
step "demo wall time: $((SECONDS - demo_start))s for both rollouts; logs in $work"
exit $ok
