#ifndef SMARTCANARY_BENCH_BENCH_ENVIRONMENT_H_
#define SMARTCANARY_BENCH_BENCH_ENVIRONMENT_H_

#include <string>

#include "absl/status/status.h"

// What the cluster benchmarks' mains share.
namespace smartcanary::bench {

// The test fixture finds binaries and writes logs under the test
// environment's folders; outside `bazel test`, point them at the binary's
// runfiles and at `log_dir` (made if missing).
void UseBenchEnvironment(const char* argv0, const std::string& log_dir);

// Writes the results to `path`; an error names the file.
absl::Status WriteResults(const std::string& path, const std::string& text);

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_BENCH_ENVIRONMENT_H_
