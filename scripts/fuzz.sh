#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Builds the libFuzzer targets of tests/fuzz (TARGET: condition_fuzzer, ...;
# default all) with clang under ASan and non-recoverable UBSan, in their own
# Bazel output base, and runs each for SECONDS (default 60). Prints the
# executions per target. A crash, sanitizer report, uncaught exception or
# timeout fails the target and its input is copied into
# tests/fuzz/corpus/TARGET/ (or $FUZZ_CRASH_DIR/TARGET/), where the normal
# build replays it as a regression test. Ends with "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-60}
shift || true
cache=${SMARTCANARY_CACHE:-$HOME/.cache/smartcanary}
# Keyed by the checkout (see scripts/test.sh).
fuzz_base="$cache/bazel-fuzz-$(printf %s "$root" | md5sum | cut -c1-12)"
crash_dir=${FUZZ_CRASH_DIR:-$root/tests/fuzz/corpus}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for source in tests/fuzz/*_fuzzer.cc; do targets+=("$(basename "$source" .cc)"); done
fi
labels=()
for target in "${targets[@]}"; do labels+=("//tests/fuzz:$target"); done

command -v clang-14 >/dev/null || { echo "[fuzz] clang-14 missing: run scripts/setup.sh" >&2; exit 1; }
# gold's "Cannot export local symbol" notes about ASan helpers are noise.
quiet_build() {
  bazel --output_base="$fuzz_base" build --config=fuzz "$@" 2>&1 |
    grep -v "Cannot export local symbol" >&2
  return "${PIPESTATUS[0]}"
}
# Whether a target built is Bazel's answer, not a file's age: a binary from
# Bazel's cache is older than a freshly cloned source and still current.
declare -A built=()
if quiet_build --keep_going "${labels[@]}"; then
  for target in "${targets[@]}"; do built[$target]=1; done
else
  for target in "${targets[@]}"; do
    quiet_build "//tests/fuzz:$target" 2>/dev/null && built[$target]=1
  done
fi
bin=$(bazel --output_base="$fuzz_base" info --config=fuzz bazel-bin 2>/dev/null)

passed=0; failed=0
for target in "${targets[@]}"; do
  binary="$bin/tests/fuzz/$target"
  if [ -z "${built[$target]:-}" ] || [ ! -x "$binary" ]; then
    echo "[fuzz] $target: did not build" >&2; failed=$((failed + 1)); continue
  fi
  # New inputs go to a work corpus outside the repository; the seeds are
  # read from the repository's corpus.
  work="$cache/fuzz-work/$target"; mkdir -p "$work"
  artifacts=$(mktemp -d "/tmp/fuzz-$target.XXXXXX")
  log="$artifacts/log"
  UBSAN_OPTIONS=print_stacktrace=1 "$binary" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1
  status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$status" -eq 0 ]; then
    echo "[fuzz] $target: ${executions:-0} executions in ${seconds}s, no finding" >&2
    passed=$((passed + 1))
  else
    echo "[fuzz] $target: FINDING after ${executions:-?} executions (exit $status)" >&2
    grep -E "ERROR: |SUMMARY: |runtime error|terminate called|what\(\)|#[0-9]+ 0x" "$log" | head -30 >&2
    mkdir -p "$crash_dir/$target"
    for input in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
      [ -f "$input" ] || continue
      cp "$input" "$crash_dir/$target/"
      echo "[fuzz] $target: input saved as $crash_dir/$target/$(basename "$input")" >&2
    done
    failed=$((failed + 1))
  fi
  rm -rf "$artifacts"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
