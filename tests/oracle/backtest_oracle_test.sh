#!/usr/bin/env bash
# Validity, not arithmetic: streams from an independent Python event model,
# judged by the real judge through the backtest CSV door (canaryctl backtest
# --csv against a local canary-analyzer). See null_streams.py.
set -euo pipefail
dir=$(dirname "$0")
analyzer="$dir/../../analysis/canary-analyzer"
canaryctl="$dir/../../cli/canaryctl"
log=$(mktemp)
"$analyzer" --insecure-no-auth --grpc-listen 127.0.0.1:0 >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true' EXIT
port=""
# Wait for the analyzer to say which port it took (or to die).
while [ -z "$port" ]; do
  port=$(grep -o 'listening on :[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  if [ -z "$port" ]; then
    kill -0 "$pid" 2>/dev/null || { cat "$log"; exit 1; }
    sleep 0.1
  fi
done
/usr/bin/python3 "$dir/null_streams.py" "$canaryctl" "127.0.0.1:$port"
