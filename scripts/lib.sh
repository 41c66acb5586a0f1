# Shared shell helpers for the project's scripts (sourced, not run).

# A TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null || { echo "$port"; return; }
  done
}

# wait_http URL [SECONDS]: until URL answers 2xx.
wait_http() {
  local url=$1 seconds=${2:-60}
  for _ in $(seq $((seconds * 5))); do
    curl -sf "$url" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "no answer from $url after ${seconds}s" >&2
  return 1
}
