#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts a real local
# control plane, runs unit and integration tests (and the unit tests again
# under AddressSanitizer + UBSan), and ends with "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH=/usr/local/go/bin:$PATH
"$root/scripts/setup.sh" || exit 1

work=$(mktemp -d /tmp/smartcanary-test.XXXXXX)
cleanup() { "$root/scripts/local-cluster.sh" down "$work/cluster" >/dev/null 2>&1; }
trap cleanup EXIT
"$root/scripts/local-cluster.sh" up "$work/cluster" || { echo "0 passed, 1 failed"; exit 1; }

bazel_status=0
bin=$("$root/scripts/build-fixtures.sh")
bazel test //... --test_env=KUBECONFIG="$work/cluster/kubeconfig" --test_env=KUBECTL="$bin/kubectl" --test_env=GRPCURL="$bin/grpcurl" \
  --test_env=SMARTCANARY_CLUSTER_DIR="$work/cluster" ||
  bazel_status=$?
# A second output base keeps the sanitizer build from evicting the normal one.
asan_base="${SMARTCANARY_CACHE:-$HOME/.cache/smartcanary}/bazel-asan"
asan_status=0
bazel --output_base="$asan_base" test --config=asan //tests/unit/... || asan_status=$?

count() {  # count OUTPUT_BASE_TESTLOGS TARGETS...: adds test cases from test.xml
  local logs=$1; shift
  for target in "$@"; do
    local xml="$logs/${target#//}"; xml="${xml/://}/test.xml"
    if [ -f "$xml" ]; then
      # gtest writes totals on <testsuites>; Bazel's own file for a crashed
      # or timed-out test has them on its one <testsuite>.
      head -c 4000 "$xml" | grep -oE '<testsuites? [^>]*tests="[0-9]+"[^>]*>' | head -1 |
        sed -E 's/.* tests="([0-9]+)".* failures="([0-9]+)".* errors="([0-9]+)".*/\1 \2 \3/'
    else
      echo "1 1 0"  # never ran: the build failed
    fi
  done
}
mapfile -t all_tests < <(bazel query 'tests(//...)' 2>/dev/null)
mapfile -t unit_tests < <(bazel query 'tests(//tests/unit/...)' 2>/dev/null)
asan_logs=$(bazel --output_base="$asan_base" info bazel-testlogs 2>/dev/null)
passed=0; failed=0
while read -r tests failures errors; do
  [ -n "$tests" ] || continue
  bad=$((failures + errors)); passed=$((passed + tests - bad)); failed=$((failed + bad))
done < <(count "$(bazel info bazel-testlogs 2>/dev/null)" "${all_tests[@]}"; count "$asan_logs" "${unit_tests[@]}")
if [ "$failed" -eq 0 ] && { [ "$bazel_status" -ne 0 ] || [ "$asan_status" -ne 0 ]; }; then
  failed=1  # bazel failed without a failing test case: a build error
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
