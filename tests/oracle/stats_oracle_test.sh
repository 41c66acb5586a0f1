#!/usr/bin/env bash
# The C++ statistics against an independent scipy implementation.
set -euo pipefail
dir=$(dirname "$0")
table=$(mktemp)
"$dir/stats_table" > "$table"
/usr/bin/python3 "$dir/stats_oracle.py" "$table"
