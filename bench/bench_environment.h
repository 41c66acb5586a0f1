#ifndef SMARTCANARY_BENCH_BENCH_ENVIRONMENT_H_
#define SMARTCANARY_BENCH_BENCH_ENVIRONMENT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// What the cluster benchmarks' mains share.
namespace smartcanary::bench {

// The test fixture finds binaries and writes logs under the test
// environment's folders; outside `bazel test`, point them at the binary's
// runfiles and at `log_dir` (made if missing).
void UseBenchEnvironment(const char* argv0, const std::string& log_dir);

// The comma-separated rollout counts of --rollouts, each at least `least`;
// an error names the flag and the bad count.
absl::StatusOr<std::vector<int>> ParseRolloutCounts(absl::string_view text,
                                                    int least);

// Prints the results and, when `path` is not empty, writes them there.
// Returns the benchmark's exit code: 1, after saying which file could not be
// written, or 0.
int PublishResults(const std::string& text, const std::string& path);

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_BENCH_ENVIRONMENT_H_
