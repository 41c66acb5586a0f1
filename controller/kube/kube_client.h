#ifndef SMARTCANARY_CONTROLLER_KUBE_KUBE_CLIENT_H_
#define SMARTCANARY_CONTROLLER_KUBE_KUBE_CLIENT_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/kube/kube_config.h"
#include "nlohmann/json.hpp"

namespace smartcanary::kube {

// A thin REST client for the Kubernetes API over libcurl. Errors map HTTP to
// absl codes: 404 NOT_FOUND, 409 ABORTED (conflict) or ALREADY_EXISTS,
// 400/422 INVALID_ARGUMENT with the API server's message, 410 OUT_OF_RANGE
// (expired resourceVersion), transport and 5xx UNAVAILABLE. Thread-safe: each
// call uses its own connection.
class KubeClient {
 public:
  explicit KubeClient(KubeConfig config,
                      absl::Duration timeout = absl::Seconds(30));

  absl::StatusOr<nlohmann::json> Get(const std::string& path) const;
  absl::StatusOr<nlohmann::json> Post(const std::string& path,
                                      const nlohmann::json& body) const;
  absl::StatusOr<nlohmann::json> Put(const std::string& path,
                                     const nlohmann::json& body) const;
  // RFC 6902 JSON Patch.
  absl::StatusOr<nlohmann::json> JsonPatch(const std::string& path,
                                           const nlohmann::json& ops) const;
  absl::StatusOr<nlohmann::json> Delete(const std::string& path) const;

  // Streams watch events ({"type":..., "object":...}) of `path` (which must
  // carry ?watch=1...) to `on_event` until the server ends the stream,
  // `on_event` returns false, or `cancelled` returns true (polled about once
  // a second while the stream is idle).
  absl::Status Watch(const std::string& path,
                     const std::function<bool(const nlohmann::json&)>& on_event,
                     const std::function<bool()>& cancelled) const;

  const KubeConfig& config() const { return config_; }

 private:
  absl::StatusOr<nlohmann::json> Request(const std::string& method,
                                         const std::string& path,
                                         const std::string& body,
                                         const std::string& content_type) const;

  KubeConfig config_;
  absl::Duration timeout_;
};

}  // namespace smartcanary::kube

#endif  // SMARTCANARY_CONTROLLER_KUBE_KUBE_CLIENT_H_
