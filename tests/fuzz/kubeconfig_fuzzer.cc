// Kubeconfig parsing (yaml-cpp and our reading of it) on arbitrary text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "controller/kube/kube_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // A kubeconfig may name files to read (tokenFile, certificate-authority).
  // Without a slash or an escape no absolute path can be written, and
  // relative ones resolve under a directory that does not exist, so the
  // fuzzer never reads this machine's files (or blocks on /dev/zero).
  if (text.find_first_of("/\\") != std::string::npos) return 0;
  (void)smartcanary::kube::ParseKubeconfig(text,
                                           "/nonexistent-fuzz/kubeconfig");
  return 0;
}
