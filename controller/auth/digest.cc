#include "controller/auth/digest.h"

#include <openssl/evp.h>

#include "absl/strings/escaping.h"

namespace smartcanary::auth {

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(),
                 nullptr) != 1) {
    // Only on allocation failure inside OpenSSL; callers do not cache
    // under an empty key.
    return "";
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace smartcanary::auth
