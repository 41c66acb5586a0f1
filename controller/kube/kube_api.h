#ifndef SMARTCANARY_CONTROLLER_KUBE_KUBE_API_H_
#define SMARTCANARY_CONTROLLER_KUBE_KUBE_API_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace smartcanary::kube {

// Every item of a collection, read page by page.
struct ListResult {
  std::vector<nlohmann::json> items;
  std::string resource_version;  // the list's: watch from here
};

// The Kubernetes API as canaryd uses it: REST paths (resources.h) and JSON
// bodies. Implemented by KubeClient (the real API server) and FakeKube (in
// memory, for unit tests).
//
// Errors are the same for both, each message starting "<METHOD> <path>: "
// and carrying the API server's own message: 404 NOT_FOUND; 409 ABORTED (a
// conflict: stale resourceVersion) or ALREADY_EXISTS (reason AlreadyExists);
// 400 and 422 INVALID_ARGUMENT (including a JSON patch whose `test` op
// fails); 401 UNAUTHENTICATED; 403 PERMISSION_DENIED; 410 OUT_OF_RANGE
// (expired resourceVersion or continue token); 429, 5xx and transport
// failures UNAVAILABLE once retries are spent; an answer over the size cap
// RESOURCE_EXHAUSTED.
class KubeApi {
 public:
  // Gets {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": ...};
  // returns false to end the watch.
  using EventHandler = std::function<bool(const nlohmann::json& event)>;

  virtual ~KubeApi() = default;

  virtual absl::StatusOr<nlohmann::json> Get(const std::string& path) const = 0;

  // All items of `collection` (which may carry a query such as
  // labelSelector=...), read in pages that follow metadata.continue. A
  // continue token that expired (410) restarts the list from the top.
  virtual absl::StatusOr<ListResult> List(
      const std::string& collection) const = 0;

  virtual absl::StatusOr<nlohmann::json> Post(
      const std::string& path, const nlohmann::json& body) const = 0;
  // An update: body.metadata.resourceVersion must be the current one.
  virtual absl::StatusOr<nlohmann::json> Put(
      const std::string& path, const nlohmann::json& body) const = 0;
  // RFC 6902 JSON Patch. A `replace /metadata/resourceVersion` op makes it
  // conditional: a stale value is a conflict (ABORTED).
  virtual absl::StatusOr<nlohmann::json> JsonPatch(
      const std::string& path, const nlohmann::json& ops) const = 0;
  // RFC 7386 JSON merge patch; conditional when it sets
  // metadata.resourceVersion.
  virtual absl::StatusOr<nlohmann::json> MergePatch(
      const std::string& path, const nlohmann::json& patch) const = 0;
  // The object as the server answers: gone, or (with finalizers) marked with
  // metadata.deletionTimestamp.
  virtual absl::StatusOr<nlohmann::json> Delete(
      const std::string& path) const = 0;

  // Streams the events of `path` (a collection with ?watch=1 and optionally
  // resourceVersion=, fieldSelector=metadata.name%3D..., labelSelector=,
  // allowWatchBookmarks=true) to `on_event` until the server ends the stream
  // (OK), `on_event` returns false (OK) or `cancelled` returns true (OK;
  // polled about once a second). An expired resourceVersion comes as an
  // ERROR event with code 410 or as OUT_OF_RANGE.
  virtual absl::Status Watch(const std::string& path,
                             const EventHandler& on_event,
                             const std::function<bool()>& cancelled) const = 0;
};

// An HTTP error answer as a KubeApi error (see above). `body` is the API
// server's Status JSON, or any text.
absl::Status StatusFromHttp(int code, absl::string_view method,
                            absl::string_view path, absl::string_view body);

// A Kubernetes Status object, as the API server answers errors.
nlohmann::json StatusJson(int code, absl::string_view reason,
                          absl::string_view message);

// The list loop shared by every KubeApi: `get_page` reads one page (the path
// carries limit= and continue=). At most `max_restarts` restarts after an
// expired continue token.
absl::StatusOr<ListResult> ListPages(
    const std::function<absl::StatusOr<nlohmann::json>(const std::string&)>&
        get_page,
    const std::string& collection, int limit, int max_restarts = 3);

// `path` with key=value (value percent-encoded) added to its query.
std::string WithQuery(absl::string_view path, absl::string_view key,
                      absl::string_view value);

// Whether `path`'s query has parameter `key`.
bool HasQueryParam(absl::string_view path, absl::string_view key);

// Percent-encodes all but RFC 3986's unreserved characters.
std::string QueryEscape(absl::string_view value);

}  // namespace smartcanary::kube

#endif  // SMARTCANARY_CONTROLLER_KUBE_KUBE_API_H_
