#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for tests and the demo:
# upstream etcd + kube-apiserver (built by build-fixtures.sh), Istio's CRDs and
# the project's CRDs installed.
#
#   scripts/local-cluster.sh up DIR     start; writes DIR/kubeconfig and DIR/env
#   scripts/local-cluster.sh down DIR   stop and keep DIR's logs
#   scripts/local-cluster.sh restart-apiserver DIR   same port, same etcd
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 up|down|restart-apiserver DIR" >&2; exit 2; }
log() { echo "[local-cluster] $*" >&2; }
# shellcheck source=lib.sh
. "$root/scripts/lib.sh"

stop() {
  for name in restart-agent kube-apiserver etcd; do
    local pidfile="$dir/$name.pid"
    [ -f "$pidfile" ] || continue
    local pid; pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
}

make_certs() {
  local pki=$dir/pki
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=smartcanary-local-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n' > "$pki/san.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 3650 -extfile "$pki/san.ext" -out "$pki/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  token=$(openssl rand -hex 24)
  echo "$token,smartcanary-admin,smartcanary-admin,system:masters" > "$pki/tokens.csv"
}

wait_ready() {
  for _ in $(seq 600); do
    if curl -sf --cacert "$dir/pki/ca.crt" -H "Authorization: Bearer $token" \
        "https://127.0.0.1:$api_port/readyz" >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$(cat "$dir/kube-apiserver.pid")" 2>/dev/null || break
    sleep 0.2
  done
  log "kube-apiserver did not become ready; last log lines:"; tail -20 "$dir/kube-apiserver.log" >&2
  return 1
}

# start_apiserver BIN: kube-apiserver on $api_port against etcd on $etcd_port.
start_apiserver() {
  local bin=$1
  "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --cert-dir "$dir/pki" --tls-cert-file "$dir/pki/apiserver.crt" --tls-private-key-file "$dir/pki/apiserver.key" \
    --client-ca-file "$dir/pki/ca.crt" --token-auth-file "$dir/pki/tokens.csv" \
    --authorization-mode RBAC --service-cluster-ip-range 10.96.0.0/16 \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$dir/pki/sa.pub" --service-account-signing-key-file "$dir/pki/sa.key" \
    --enable-priority-and-fairness=false --profiling=false --v=0 > "$dir/kube-apiserver.log" 2>&1 &
  echo $! > "$dir/kube-apiserver.pid"
}

# Stops kube-apiserver and starts it again on the same port and etcd: what
# an API server restart looks like to its clients (fault-injection tests).
restart_apiserver() {
  dir=$(cd "$dir" && pwd)
  # shellcheck disable=SC1091
  . "$dir/ports"
  token=$(cut -d, -f1 "$dir/pki/tokens.csv")
  local pid; pid=$(cat "$dir/kube-apiserver.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  # shellcheck disable=SC2154  # set by the ports file
  start_apiserver "$bin"
  wait_ready
  log "kube-apiserver restarted on https://127.0.0.1:$api_port"
}

# Restarts the API server whenever DIR/restart-apiserver.request appears,
# then writes DIR/restart-apiserver.done. A test cannot restart it itself:
# Bazel kills everything a test started when the test ends.
restart_agent() {
  while [ -f "$dir/etcd.pid" ] && kill -0 "$(cat "$dir/etcd.pid")" 2>/dev/null; do
    if [ -f "$dir/restart-apiserver.request" ]; then
      rm -f "$dir/restart-apiserver.request" "$dir/restart-apiserver.done"
      restart_apiserver >> "$dir/restart-agent.log" 2>&1 || true
      touch "$dir/restart-apiserver.done"
    fi
    sleep 0.2
  done
}

up() {
  mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
  stop
  local bin; bin=$("$root/scripts/build-fixtures.sh")
  local cache; cache=$(dirname "$bin")
  make_certs
  local etcd_port; etcd_port=$(free_port)
  local peer_port; peer_port=$(free_port)
  api_port=$(free_port)
  rm -rf "$dir/etcd-data"
  "$bin/etcd" --data-dir "$dir/etcd-data" --name local \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "local=http://127.0.0.1:$peer_port" \
    --log-level warn --quota-backend-bytes 1073741824 > "$dir/etcd.log" 2>&1 &
  echo $! > "$dir/etcd.pid"
  echo "etcd_port=$etcd_port api_port=$api_port bin=$bin" > "$dir/ports"
  start_apiserver "$bin"
  wait_ready
  local ca_data; ca_data=$(base64 -w0 < "$dir/pki/ca.crt")
  cat > "$dir/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $ca_data
users:
- name: admin
  user:
    token: $token
contexts:
- name: local
  context: {cluster: local, user: admin, namespace: default}
current-context: local
KC
  cat > "$dir/env" <<ENV
export KUBECONFIG=$dir/kubeconfig
export PATH=$bin:\$PATH
ENV
  local kubectl="$bin/kubectl --kubeconfig $dir/kubeconfig"
  $kubectl apply --server-side -f "$cache/istio-crds.yaml" 2> >(grep -v "unrecognized format" >&2) >/dev/null
  $kubectl apply --server-side -k "$root/manifests/crds/" >/dev/null
  $kubectl wait --for condition=established --timeout=60s \
    crd/virtualservices.networking.istio.io crd/destinationrules.networking.istio.io \
    crd/canaryrollouts.smartcanary.dev crd/canaryanalysistemplates.smartcanary.dev \
    crd/clustercanaryanalysistemplates.smartcanary.dev >/dev/null
  restart_agent < /dev/null > /dev/null 2>&1 &
  echo $! > "$dir/restart-agent.pid"
  log "up: https://127.0.0.1:$api_port (etcd 127.0.0.1:$etcd_port); KUBECONFIG=$dir/kubeconfig"
}

case "$cmd" in
  up) up ;;
  down) stop; log "down" ;;
  restart-apiserver) restart_apiserver ;;
  *) echo "usage: $0 up|down|restart-apiserver DIR" >&2; exit 2 ;;
esac
