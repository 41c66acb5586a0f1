#include "bench/argo/pod_readiness.h"

#include <string>

#include "absl/time/time.h"

namespace smartcanary::bench::argo {

using nlohmann::json;

namespace {

bool IsReady(const json& status) {
  if (status.value("phase", "") != "Running") return false;
  const json conditions = status.value("conditions", json::array());
  if (!conditions.is_array()) return false;
  for (const json& condition : conditions) {
    if (condition.is_object() && condition.value("type", "") == "Ready")
      return condition.value("status", "") == "True";
  }
  return false;
}

json Condition(const char* type, const std::string& at) {
  return {{"type", type}, {"status", "True"}, {"lastTransitionTime", at}};
}

}  // namespace

std::optional<json> ReadyPatch(const json& pod, absl::Time now) {
  if (!pod.is_object()) return std::nullopt;
  const json metadata = pod.value("metadata", json::object());
  if (metadata.is_object() && metadata.contains("deletionTimestamp"))
    return std::nullopt;
  const json spec = pod.value("spec", json::object());
  const json containers =
      spec.is_object() ? spec.value("containers", json::array()) : json();
  if (!containers.is_array() || containers.empty()) return std::nullopt;
  const json status = pod.value("status", json::object());
  if (status.is_object() && IsReady(status)) return std::nullopt;

  // Seconds, as the API server stores metav1.Time.
  const std::string at =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone());
  json statuses = json::array();
  for (const json& container : containers) {
    if (!container.is_object() || !container.contains("name") ||
        !container["name"].is_string()) {
      continue;
    }
    json running = {{"startedAt", at}};
    statuses.push_back({{"name", container["name"]},
                        {"image", container.value("image", "")},
                        {"imageID", ""},
                        {"ready", true},
                        {"started", true},
                        {"restartCount", 0},
                        {"state", {{"running", std::move(running)}}}});
  }
  json conditions =
      json::array({Condition("PodScheduled", at), Condition("Initialized", at),
                   Condition("ContainersReady", at), Condition("Ready", at)});
  json patch_status = {{"phase", "Running"},
                       {"startTime", at},
                       {"hostIP", "127.0.0.1"},
                       {"podIP", "127.0.0.1"},
                       {"conditions", std::move(conditions)},
                       {"containerStatuses", std::move(statuses)}};
  return json{{"status", std::move(patch_status)}};
}

}  // namespace smartcanary::bench::argo
