#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts a real local
# control plane, runs unit and integration tests, the unit tests and fuzz
# corpora again under AddressSanitizer + non-recoverable UBSan, the
# concurrent parts under ThreadSanitizer, each fuzzer for a short fixed time,
# and ends with "N passed, N failed".
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
# Keyed by the checkout's path, like Bazel's default one: an output base
# shared by two checkouts keeps runfiles links into the other checkout.
checkout_key=$(printf %s "$root" | md5sum | cut -c1-12)
asan_base="${SMARTCANARY_CACHE:-$HOME/.cache/smartcanary}/bazel-asan-$checkout_key"
asan_status=0
bazel --output_base="$asan_base" test --config=asan //tests/unit/... //tests/fuzz/... || asan_status=$?
# Threads, queues, locks and the probe server under ThreadSanitizer.
tsan_base="${SMARTCANARY_CACHE:-$HOME/.cache/smartcanary}/bazel-tsan-$checkout_key"
tsan_tests=(//tests/unit:work_queue_test //tests/unit:reconciler_test //tests/unit:fake_kube_test
  //tests/unit:cached_kube_api_test
  //tests/unit:leader_election_test //tests/unit:http_server_test //tests/unit:logging_test
  //tests/unit:http_transport_test //tests/unit:kube_client_test)
tsan_status=0
bazel --output_base="$tsan_base" test --config=tsan "${tsan_tests[@]}" || tsan_status=$?
# The release images (scripts/build-images.sh), each binary run from its
# image's root filesystem by tests/image/image_test.sh.
image_passed=0; image_failed=1
if "$root/scripts/build-images.sh" "$work/images" >&2; then
  read -r image_passed _ image_failed _ < <("$root/tests/image/image_test.sh" "$work/images" | tail -1)
fi
# Each fuzzer for 30 s (clang, ASan + UBSan); a finding fails it and its
# input becomes a corpus regression case.
fuzz_passed=0; fuzz_failed=0
read -r fuzz_passed _ fuzz_failed _ < <("$root/scripts/fuzz.sh" 30 | tail -1)

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
mapfile -t unit_tests < <(bazel query 'tests(//tests/unit/...) + tests(//tests/fuzz/...)' 2>/dev/null)
asan_logs=$(bazel --output_base="$asan_base" info bazel-testlogs 2>/dev/null)
tsan_logs=$(bazel --output_base="$tsan_base" info bazel-testlogs 2>/dev/null)
passed=$((${fuzz_passed:-0} + ${image_passed:-0})); failed=$((${fuzz_failed:-1} + ${image_failed:-1}))
while read -r tests failures errors; do
  [ -n "$tests" ] || continue
  bad=$((failures + errors)); passed=$((passed + tests - bad)); failed=$((failed + bad))
done < <(count "$(bazel info bazel-testlogs 2>/dev/null)" "${all_tests[@]}"; count "$asan_logs" "${unit_tests[@]}"; count "$tsan_logs" "${tsan_tests[@]}")
if [ "$failed" -eq 0 ] && { [ "$bazel_status" -ne 0 ] || [ "$asan_status" -ne 0 ] ||
  [ "$tsan_status" -ne 0 ]; }; then
  failed=1  # bazel failed without a failing test case: a build error
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
