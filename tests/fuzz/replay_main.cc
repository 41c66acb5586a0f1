// Runs a fuzzer's corpus (seeds and every crash ever found) through its
// LLVMFuzzerTestOneInput in the ordinary build, so each stays a regression
// test. Arguments: corpus directories.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    std::error_code error;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(argv[i], error)) {
      if (entry.is_regular_file()) {
        inputs.push_back(entry.path());
      } else if (entry.is_symlink()) {
        // A runfiles link whose target is gone: say so rather than
        // replaying fewer inputs than the corpus holds.
        std::fprintf(stderr, "%s: a link to a missing file\n",
                     entry.path().c_str());
        return 1;
      }
    }
    if (error) {
      std::fprintf(stderr, "%s: %s\n", argv[i], error.message().c_str());
      return 1;
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr,
                 "no corpus inputs found: the corpus must not be empty\n");
    return 1;
  }
  std::sort(inputs.begin(), inputs.end());
  for (const auto& path : inputs) {
    // Printed first, so a crash names its input.
    std::fprintf(stderr, "replaying %s\n", path.c_str());
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    const std::string bytes = content.str();
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()),
                           bytes.size());
  }
  std::printf("%zu inputs replayed without a crash\n", inputs.size());
  return 0;
}
