#ifndef SMARTCANARY_CONTROLLER_KUBE_KUBE_CLIENT_H_
#define SMARTCANARY_CONTROLLER_KUBE_KUBE_CLIENT_H_

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/http_transport.h"
#include "common/retry.h"
#include "controller/kube/kube_api.h"
#include "controller/kube/kube_config.h"
#include "nlohmann/json.hpp"

namespace smartcanary::kube {

struct KubeClientOptions {
  // One call, retries included (not a watch): a caller fencing its writes
  // by time can rely on it.
  absl::Duration timeout = absl::Seconds(30);
  absl::Duration connect_timeout = absl::Seconds(10);
  // One answer, or one watch event: a page of a list must fit.
  size_t max_response_bytes = size_t{64} << 20;
  int list_page_size = 500;
  // The API server sends a bookmark about once a minute on a watch that
  // asked for them: a stream silent for much longer is dead (a half-open
  // connection after a network change), not idle.
  absl::Duration watch_stall_timeout = absl::Seconds(150);
  // For 429, 5xx and lost connections, when the request is safe to repeat.
  RetryPolicy retry;
  std::string user_agent = UserAgent("canaryd");
  // Sent as ?fieldManager= on every write, so managedFields name canaryd.
  std::string field_manager = "canaryd";
};

// The Kubernetes REST API over HttpTransport (libcurl), with the errors of
// KubeApi. Retries with backoff, honouring Retry-After, when a request is
// safe to repeat: GET, PUT and DELETE, a JSON patch that is conditional or
// only replaces, removes and tests. Re-reads the token file when it changes
// or after a 401. Thread-safe; connections are reused.
class KubeClient : public KubeApi {
 public:
  explicit KubeClient(KubeConfig config,
                      absl::Duration timeout = absl::Seconds(30));
  KubeClient(KubeConfig config, KubeClientOptions options);

  absl::StatusOr<nlohmann::json> Get(const std::string& path) const override;
  absl::StatusOr<ListResult> List(const std::string& collection) const override;
  absl::StatusOr<nlohmann::json> Post(
      const std::string& path, const nlohmann::json& body) const override;
  absl::StatusOr<nlohmann::json> Put(const std::string& path,
                                     const nlohmann::json& body) const override;
  absl::StatusOr<nlohmann::json> JsonPatch(
      const std::string& path, const nlohmann::json& ops) const override;
  absl::StatusOr<nlohmann::json> MergePatch(
      const std::string& path, const nlohmann::json& patch) const override;
  absl::StatusOr<nlohmann::json> Delete(const std::string& path) const override;

  // As KubeApi::Watch; adds allowWatchBookmarks=true unless the path says
  // otherwise, and ends a stream silent for watch_stall_timeout
  // (UNAVAILABLE).
  absl::Status Watch(const std::string& path, const EventHandler& on_event,
                     const std::function<bool()>& cancelled) const override;

  const KubeConfig& config() const { return config_; }
  const KubeClientOptions& options() const { return options_; }

 private:
  // A file's identity and version: a rewrite or an atomic swap changes it.
  struct FileStamp {
    ino_t inode = 0;
    off_t size = -1;
    int64_t mtime_ns = -1;
    bool operator==(const FileStamp&) const = default;
  };

  absl::StatusOr<nlohmann::json> Request(const std::string& method,
                                         const std::string& path,
                                         const std::string& body,
                                         const std::string& content_type,
                                         bool idempotent) const;
  HttpRequest NewRequest(const std::string& method,
                         const std::string& path) const;
  // The bearer token, re-read if its file changed (or `force`); true in
  // `changed` when it differs from the one used before.
  std::string Token(bool force, bool* changed = nullptr) const;

  KubeConfig config_;
  KubeClientOptions options_;
  std::unique_ptr<HttpTransport> transport_;
  mutable absl::Mutex token_mu_;
  mutable std::string token_ ABSL_GUARDED_BY(token_mu_);
  mutable FileStamp token_stamp_ ABSL_GUARDED_BY(token_mu_);
};

}  // namespace smartcanary::kube

#endif  // SMARTCANARY_CONTROLLER_KUBE_KUBE_CLIENT_H_
