#include "bench/bench_environment.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace smartcanary::bench {

void UseBenchEnvironment(const char* argv0, const std::string& log_dir) {
  if (std::getenv("TEST_SRCDIR") == nullptr)
    setenv("TEST_SRCDIR", (std::string(argv0) + ".runfiles").c_str(), 1);
  std::error_code ignored;  // a folder that cannot be made fails later
  std::filesystem::create_directories(log_dir, ignored);
  setenv("TEST_UNDECLARED_OUTPUTS_DIR", log_dir.c_str(), 1);
  setenv("TEST_TMPDIR", log_dir.c_str(), 1);
}

absl::Status WriteResults(const std::string& path, const std::string& text) {
  std::ofstream file(path);
  file << text;
  file.close();
  if (!file) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace smartcanary::bench
