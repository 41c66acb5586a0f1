#include "controller/analysis/kube_secrets.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace smartcanary {

SecretReader KubeSecretReader(const kube::KubeApi& kube) {
  return [&kube](const std::string& ns, const std::string& name,
                 const std::string& key) -> absl::StatusOr<std::string> {
    // Both names are validated (DNS-1123) before they get here.
    auto secret =
        kube.Get(absl::StrCat("/api/v1/namespaces/", ns, "/secrets/", name));
    if (!secret.ok()) {
      if (absl::IsNotFound(secret.status()))
        return absl::NotFoundError("no such Secret");
      return absl::Status(
          secret.status().code(),
          absl::StrCat("cannot read the Secret (canaryd needs get on secrets "
                       "in this namespace): ",
                       secret.status().message()));
    }
    const nlohmann::json* data = nullptr;
    if (auto it = secret->find("data");
        it != secret->end() && it->is_object()) {
      data = &*it;
    }
    if (data == nullptr || !data->contains(key) || !(*data)[key].is_string())
      return absl::NotFoundError("the Secret has no such key");
    std::string value;
    if (!absl::Base64Unescape((*data)[key].get<std::string>(), &value))
      return absl::InvalidArgumentError("the key's data is not base64");
    return value;
  };
}

}  // namespace smartcanary
