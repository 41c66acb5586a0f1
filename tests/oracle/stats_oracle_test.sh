#!/usr/bin/env bash
# The C++ statistics against an independent scipy implementation.
set -euo pipefail
dir=$(dirname "$0")
table=$(mktemp)
"$dir/stats_table" > "$table"
/usr/bin/python3 "$dir/stats_oracle.py" "$table"
# The floor for tests valid under bursts of up to 5 (docs/STATISTICS.md).
/usr/bin/python3 "$dir/burst_floor.py"
