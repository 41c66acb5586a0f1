#include "controller/canary_rollout.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controller/kube/resources.h"

namespace smartcanary {

using nlohmann::json;

absl::StatusOr<CanaryRollout> CanaryRolloutFromJson(const json& object) {
  CanaryRollout out;
  const json& meta = object.value("metadata", json::object());
  out.namespace_name = meta.value("namespace", "");
  out.name = meta.value("name", "");
  out.uid = meta.value("uid", "");
  out.resource_version = meta.value("resourceVersion", "");
  out.generation = meta.value("generation", int64_t{0});
  out.creation_timestamp = meta.value("creationTimestamp", "");
  auto status = ParseRolloutStatus(object.value("status", json()));
  if (!status.ok()) return status.status();
  out.status = *status;
  auto spec = ParseRolloutSpec(object.value("spec", json()));
  if (!spec.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CanaryRollout ", out.namespace_name, "/", out.name, ": ",
                     spec.status().message()));
  }
  out.spec = *spec;
  return out;
}

json NewCanaryRolloutJson(const std::string& ns, const std::string& name,
                          const RolloutSpec& spec) {
  return {{"apiVersion", kube::kCanaryRolloutApiVersion},
          {"kind", "CanaryRollout"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", RolloutSpecToJson(spec)}};
}

}  // namespace smartcanary
