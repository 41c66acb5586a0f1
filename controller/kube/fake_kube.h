#ifndef SMARTCANARY_CONTROLLER_KUBE_FAKE_KUBE_H_
#define SMARTCANARY_CONTROLLER_KUBE_FAKE_KUBE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/kube/kube_api.h"
#include "nlohmann/json.hpp"

namespace smartcanary::kube {

struct FakeKubeOptions {
  int list_page_size = 500;  // List reads pages of this many items
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

// An in-memory API server for unit tests, with the semantics controllers
// rely on and the errors of KubeApi:
//  - objects keyed by path: /api/v1/namespaces/NS/PLURAL/NAME,
//    /apis/G/V/namespaces/NS/PLURAL/NAME, cluster-scoped /apis/G/V/PLURAL/NAME;
//    a collection without namespaces/NS lists every namespace;
//  - every kind has a status subresource: a write to .../NAME ignores
//    .status, a write to .../NAME/status changes only .status; create drops
//    .status;
//  - metadata.resourceVersion (one counter for all objects) is bumped by
//    every write that changes the object (a no-op write changes nothing, as
//    on the real server); metadata.generation starts at 1 and is bumped when
//    anything but metadata and status changes, and when deletion starts;
//  - PUT needs metadata.resourceVersion (as for custom resources); a stale
//    one, or a patch that replaces /metadata/resourceVersion (or a merge
//    patch that sets it) with a stale one, is ABORTED (409); a JSON patch
//    whose `test` op fails, or that cannot apply, is INVALID_ARGUMENT (422);
//  - Delete of an object with finalizers sets metadata.deletionTimestamp;
//    the write that removes its last finalizer deletes it; no finalizer can
//    be added to an object being deleted;
//  - lists with limit/continue and labelSelector/fieldSelector (equality,
//    !=, exists); watches replay the change log after resourceVersion (none
//    or "0": ADDED for every current object first); a resourceVersion older
//    than Compact() gives an ERROR event with code 410.
// Methods seen by hooks and FailNext: GET (each page of a List too), POST,
// PUT, PATCH, DELETE, WATCH. Thread-safe; a watch delivers events outside
// the lock, so its handler may call back into the fake.
class FakeKube : public KubeApi {
 public:
  // Runs before each call, outside the fake's lock (it may block, count or
  // wait); a non-OK status fails the call with it.
  using Hook = std::function<absl::Status(const std::string& method,
                                          const std::string& path)>;

  explicit FakeKube(FakeKubeOptions options = {});

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
  absl::Status Watch(const std::string& path, const EventHandler& on_event,
                     const std::function<bool()>& cancelled) const override;

  // Test controls: no hook, no injected failure, not counted.

  // Stores `object` in `collection` as a create followed by a status write
  // would (its .status kept).
  absl::StatusOr<nlohmann::json> Seed(const std::string& collection,
                                      nlohmann::json object);
  // The object at `path`, or NOT_FOUND.
  absl::StatusOr<nlohmann::json> Peek(const std::string& path) const;
  // The next `count` calls of `method` (empty: any) fail as the API server's
  // `http_code` would, with the message `message`.
  void FailNext(int count, int http_code, const std::string& method = "",
                const std::string& message = "injected failure");
  // The next `count` calls of `method` (empty: any) fail with `status` as it
  // is: a transport failure, say, which has no HTTP code.
  void FailNext(int count, absl::Status status, const std::string& method = "");
  void SetHook(Hook hook);
  // Calls of `method` (empty: all) so far.
  int Calls(const std::string& method = "") const;
  // The newest resourceVersion.
  std::string ResourceVersion() const;
  // Forgets the change log: watches from an older resourceVersion get 410.
  void Compact();
  // Open watches that asked for bookmarks get one at the newest version.
  void Bookmark();
  // Ends open watches (OK), as the server does at timeoutSeconds.
  void EndWatches();
  int OpenWatches() const;

 private:
  struct Failure {
    int count;
    int http_code;  // 0: `status` as it is
    std::string method;
    std::string message;
    absl::Status status;
  };
  struct Change {
    int64_t version;
    std::string type;  // ADDED, MODIFIED, DELETED
    std::string key;
    nlohmann::json object;
  };
  struct Watcher;

  absl::Status Enter(const std::string& method, const std::string& path) const;
  absl::StatusOr<nlohmann::json> Write(const std::string& method,
                                       const std::string& path,
                                       const nlohmann::json& body,
                                       bool json_patch, bool merge_patch) const;
  absl::StatusOr<nlohmann::json> Commit(const std::string& method,
                                        const std::string& path,
                                        const std::string& key,
                                        const nlohmann::json& old,
                                        nlohmann::json candidate,
                                        bool status_only) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<nlohmann::json> Create(const std::string& method,
                                        const std::string& path,
                                        nlohmann::json body,
                                        bool keep_status) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Record(const std::string& type, const std::string& key,
              const nlohmann::json& object) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Timestamp() const;

  FakeKubeOptions options_;
  mutable absl::Mutex mu_;
  mutable std::map<std::string, nlohmann::json> objects_ ABSL_GUARDED_BY(mu_);
  mutable std::vector<Change> log_ ABSL_GUARDED_BY(mu_);
  mutable int64_t version_ ABSL_GUARDED_BY(mu_) = 1;
  mutable int64_t compacted_ ABSL_GUARDED_BY(mu_) = 0;
  mutable int64_t uids_ ABSL_GUARDED_BY(mu_) = 0;
  mutable int64_t bookmarks_ ABSL_GUARDED_BY(mu_) = 0;
  mutable int64_t watch_ends_ ABSL_GUARDED_BY(mu_) = 0;
  mutable int open_watches_ ABSL_GUARDED_BY(mu_) = 0;
  mutable std::map<std::string, int> calls_ ABSL_GUARDED_BY(mu_);
  mutable std::vector<Failure> failures_ ABSL_GUARDED_BY(mu_);
  Hook hook_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smartcanary::kube

#endif  // SMARTCANARY_CONTROLLER_KUBE_FAKE_KUBE_H_
