#ifndef SMARTCANARY_CONTROLLER_KUBE_CACHED_KUBE_API_H_
#define SMARTCANARY_CONTROLLER_KUBE_CACHED_KUBE_API_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "controller/kube/kube_api.h"
#include "controller/kube/resources.h"
#include "nlohmann/json.hpp"

namespace smartcanary::kube {

// A read cache in front of another KubeApi, kept current by the
// controller's watches, as client-go's informers are: a GET of one object
// of a cached kind is answered from memory once that kind has been listed
// ("synced"). Everything else goes to the server: other kinds, collections,
// queries, status subresource reads, lists, watches and every write.
//
// Staleness is bounded by the watch's delay and never silently written
// back: canaryd's writes are guarded (resourceVersion or JSON-Patch `test`),
// so a write built from a stale object fails with ABORTED (409) or
// INVALID_ARGUMENT (422); that failure drops the entry, and the retry reads
// the server. A successful write stores the server's answer (write-through).
//
// Holds one copy of each object, without metadata.managedFields, as compact
// JSON text: a parsed nlohmann::json takes several times the memory of its
// text, and peak memory at 1,000 rollouts is what issue 11 measures. Get
// parses it, outside the lock (tens of microseconds, against a round trip
// to the API server).
// Thread-safe.
class CachedKubeApi : public KubeApi {
 public:
  // `kinds` are cached; `ns` is the namespace their watches cover (empty:
  // all). Objects of a namespaced kind elsewhere are not cached.
  CachedKubeApi(const KubeApi& server, std::vector<Resource> kinds,
                std::string ns);

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

  // Fed by the watches. A complete list of `kind` at `list_version`: its
  // `items` (a JSON array) are stored, objects it no longer has are
  // forgotten, and the kind is synced from now on.
  void Replace(const Resource& kind, const nlohmann::json& items,
               const std::string& list_version);
  // A watch event: ADDED and MODIFIED store the object, DELETED forgets it.
  void Apply(const Resource& kind, const std::string& type,
             const nlohmann::json& object);
  // The watch of `kind` lost events or failed: its reads go to the server
  // until the next Replace.
  void Unsync(const Resource& kind);

  bool Synced(const Resource& kind) const;
  // Objects held in memory (for tests and sizing).
  size_t Size() const;

 private:
  struct Entry {
    size_t kind;
    // Null: deleted, or dropped after a failed write; a read asks the server.
    std::shared_ptr<const std::string> object;
    // The object's, or the last one known: older arrivals never replace it.
    std::string version;
  };
  struct Target {
    size_t kind;
    std::string item;  // the object's path, without /status
    bool status;       // the path is .../status
  };

  // The cached object `path` names, if any.
  std::optional<Target> Parse(const std::string& path) const;
  std::optional<size_t> KindIndex(const Resource& kind) const;
  // The key of `object` of `kinds_[kind]`, or "" when it is not covered.
  std::string KeyOf(size_t kind, const nlohmann::json& object) const;
  // What is kept of an object: its resourceVersion and its text.
  struct Kept {
    std::string version;
    std::shared_ptr<const std::string> text;
  };
  static Kept Keep(const nlohmann::json& object);
  // Keeps `kept` under `key` unless what is held is newer.
  void Store(size_t kind, const std::string& key, Kept kept) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The next read of `key` asks the server; its version stays as the floor.
  void Drop(const std::string& key) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Write-through: the server's answer to a write at `path`, or the entry
  // dropped when the write failed in a way that means it was stale.
  absl::StatusOr<nlohmann::json> AfterWrite(
      const std::string& path, absl::StatusOr<nlohmann::json> answer) const;

  const KubeApi& server_;
  std::vector<Resource> kinds_;
  std::string namespace_;
  mutable absl::Mutex mu_;
  std::vector<bool> synced_ ABSL_GUARDED_BY(mu_);
  // By item path, as Resource::Item spells it.
  mutable std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

// Whether `candidate` is older than `held`, both metadata.resourceVersion.
bool OlderVersion(const std::string& candidate, const std::string& held);

}  // namespace smartcanary::kube

#endif  // SMARTCANARY_CONTROLLER_KUBE_CACHED_KUBE_API_H_
