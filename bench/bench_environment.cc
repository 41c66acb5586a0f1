#include "bench/bench_environment.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace smartcanary::bench {

void UseBenchEnvironment(const char* argv0, const std::string& log_dir) {
  if (std::getenv("TEST_SRCDIR") == nullptr)
    setenv("TEST_SRCDIR", (std::string(argv0) + ".runfiles").c_str(), 1);
  std::error_code ignored;  // a folder that cannot be made fails later
  std::filesystem::create_directories(log_dir, ignored);
  setenv("TEST_UNDECLARED_OUTPUTS_DIR", log_dir.c_str(), 1);
  setenv("TEST_TMPDIR", log_dir.c_str(), 1);
}

absl::StatusOr<std::vector<int>> ParseRolloutCounts(absl::string_view text,
                                                    int least) {
  std::vector<int> counts;
  for (absl::string_view count : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int n = 0;
    if (!absl::SimpleAtoi(count, &n) || n < least) {
      return absl::InvalidArgumentError(
          absl::StrCat("--rollouts: bad count \"", count,
                       "\" (a whole number, at least ", least, ")"));
    }
    counts.push_back(n);
  }
  if (counts.empty())
    return absl::InvalidArgumentError("--rollouts: no counts given");
  return counts;
}

int PublishResults(const std::string& text, const std::string& path) {
  std::fputs(text.c_str(), stdout);
  if (path.empty()) return 0;
  std::ofstream file(path);
  file << text;
  file.close();
  if (file) return 0;
  std::fprintf(stderr, "--out: cannot write %s\n", path.c_str());
  return 1;
}

}  // namespace smartcanary::bench
