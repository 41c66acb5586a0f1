#include "controller/kube/cached_kube_api.h"

#include <cstdint>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/k8s_names.h"

namespace smartcanary::kube {
namespace {

using nlohmann::json;

// metadata[key] when it is a string, else "" (objects are checked, never
// trusted: json::value() throws on a wrong type).
std::string MetadataField(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto field = meta->find(key);
  if (field == meta->end() || !field->is_string()) return "";
  return field->get<std::string>();
}

}  // namespace

bool OlderVersion(const std::string& candidate, const std::string& held) {
  // Kubernetes calls resourceVersions opaque. This assumes what the real
  // API server gives: etcd's revision, an unsigned integer that grows with
  // every write, so the larger is newer. Anything else cannot be ordered,
  // and then the later arrival wins.
  uint64_t a = 0;
  uint64_t b = 0;
  return absl::SimpleAtoi(candidate, &a) && absl::SimpleAtoi(held, &b) && a < b;
}

// metadata.managedFields (server-side apply's bookkeeping, often as large as
// the rest of the object) is left out: canaryd never reads it, and the API
// server keeps an object's managedFields when an update (the Put of a
// changed spec) does not send them.
CachedKubeApi::Kept CachedKubeApi::Keep(const json& object) {
  const json* source = &object;
  json trimmed;
  if (auto meta = object.find("metadata"); meta != object.end() &&
                                           meta->is_object() &&
                                           meta->contains("managedFields")) {
    trimmed = object;
    trimmed["metadata"].erase("managedFields");
    source = &trimmed;
  }
  return {MetadataField(object, "resourceVersion"),
          std::make_shared<const std::string>(
              source->dump(-1, ' ', false, json::error_handler_t::replace))};
}

CachedKubeApi::CachedKubeApi(const KubeApi& server, std::vector<Resource> kinds,
                             std::string ns)
    : server_(server),
      kinds_(std::move(kinds)),
      namespace_(std::move(ns)),
      synced_(kinds_.size(), false) {}

std::optional<CachedKubeApi::Target> CachedKubeApi::Parse(
    const std::string& path) const {
  if (absl::StrContains(path, '?')) return std::nullopt;
  for (size_t k = 0; k < kinds_.size(); ++k) {
    const Resource& kind = kinds_[k];
    const std::string base =
        kind.cluster_scoped
            ? absl::StrCat(kind.group_version_path, "/", kind.plural, "/")
            : absl::StrCat(kind.group_version_path, "/namespaces/");
    if (!absl::StartsWith(path, base)) continue;
    // Namespaced: NS/PLURAL/NAME[/status]; cluster-scoped: NAME[/status].
    std::vector<std::string> parts =
        absl::StrSplit(absl::string_view(path).substr(base.size()), '/');
    const size_t name_at = kind.cluster_scoped ? 0 : 2;
    if (parts.size() <= name_at || parts[name_at].empty()) continue;
    if (!kind.cluster_scoped &&
        (parts[1] != kind.plural ||
         (!namespace_.empty() && parts[0] != EscapePathSegment(namespace_)))) {
      continue;
    }
    const bool status =
        parts.size() == name_at + 2 && parts[name_at + 1] == "status";
    if (parts.size() != name_at + 1 && !status) continue;
    parts.resize(name_at + 1);
    return Target{k, base + absl::StrJoin(parts, "/"), status};
  }
  return std::nullopt;
}

std::optional<size_t> CachedKubeApi::KindIndex(const Resource& kind) const {
  for (size_t k = 0; k < kinds_.size(); ++k) {
    if (absl::string_view(kinds_[k].group_version_path) ==
            kind.group_version_path &&
        absl::string_view(kinds_[k].plural) == kind.plural) {
      return k;
    }
  }
  return std::nullopt;
}

std::string CachedKubeApi::KeyOf(size_t kind, const json& object) const {
  const std::string name = MetadataField(object, "name");
  if (name.empty()) return "";
  if (kinds_[kind].cluster_scoped) return kinds_[kind].Item("", name);
  const std::string ns = MetadataField(object, "namespace");
  if (ns.empty() || (!namespace_.empty() && ns != namespace_)) return "";
  return kinds_[kind].Item(ns, name);
}

void CachedKubeApi::Store(size_t kind, const std::string& key,
                          Kept kept) const {
  auto it = entries_.find(key);
  if (it != entries_.end() && OlderVersion(kept.version, it->second.version))
    return;
  entries_[key] = Entry{kind, std::move(kept.text), std::move(kept.version)};
}

void CachedKubeApi::Drop(const std::string& key) const {
  if (auto it = entries_.find(key); it != entries_.end())
    it->second.object.reset();
}

absl::StatusOr<json> CachedKubeApi::Get(const std::string& path) const {
  const std::optional<Target> target = Parse(path);
  if (!target || target->status) return server_.Get(path);
  std::shared_ptr<const std::string> held;
  bool synced;
  {
    absl::MutexLock lock(&mu_);
    synced = synced_[target->kind];
    if (auto it = entries_.find(target->item); synced && it != entries_.end()) {
      held = it->second.object;
    }
  }
  // The server is asked, and the object parsed, outside the lock.
  if (!synced) return server_.Get(path);
  if (held != nullptr) {
    json object = json::parse(*held, nullptr, /*allow_exceptions=*/false);
    if (!object.is_discarded()) return object;
  }
  // Not in the list, or dropped: the server knows. A 404 is not kept.
  absl::StatusOr<json> answer = server_.Get(path);
  if (answer.ok()) {
    Kept kept = Keep(*answer);
    absl::MutexLock lock(&mu_);
    if (synced_[target->kind])
      Store(target->kind, target->item, std::move(kept));
  }
  return answer;
}

absl::StatusOr<json> CachedKubeApi::AfterWrite(
    const std::string& path, absl::StatusOr<json> answer) const {
  const std::optional<Target> target = Parse(path);
  if (!answer.ok()) {
    // 409: a stale resourceVersion; 422: a failed `test` op; 404: gone.
    // Each may mean the cached object is not the server's any more.
    if (target && (absl::IsAborted(answer.status()) ||
                   absl::IsInvalidArgument(answer.status()) ||
                   absl::IsNotFound(answer.status()))) {
      absl::MutexLock lock(&mu_);
      Drop(target->item);
    }
    return answer;
  }
  std::optional<std::pair<size_t, std::string>> key;
  if (target) {
    key.emplace(target->kind, target->item);
  } else {
    // A create: POST to the collection the new object belongs to.
    for (size_t k = 0; k < kinds_.size() && !key; ++k) {
      std::string item = KeyOf(k, *answer);
      if (!item.empty() && absl::StartsWith(item, path + "/") &&
          item.find('/', path.size() + 1) == std::string::npos) {
        key.emplace(k, std::move(item));
      }
    }
  }
  if (key && answer->is_object()) {
    Kept kept = Keep(*answer);
    absl::MutexLock lock(&mu_);
    Store(key->first, key->second, std::move(kept));
  }
  return answer;
}

absl::StatusOr<ListResult> CachedKubeApi::List(
    const std::string& collection) const {
  return server_.List(collection);
}

absl::StatusOr<json> CachedKubeApi::Post(const std::string& path,
                                         const json& body) const {
  return AfterWrite(path, server_.Post(path, body));
}

absl::StatusOr<json> CachedKubeApi::Put(const std::string& path,
                                        const json& body) const {
  return AfterWrite(path, server_.Put(path, body));
}

absl::StatusOr<json> CachedKubeApi::JsonPatch(const std::string& path,
                                              const json& ops) const {
  return AfterWrite(path, server_.JsonPatch(path, ops));
}

absl::StatusOr<json> CachedKubeApi::MergePatch(const std::string& path,
                                               const json& patch) const {
  return AfterWrite(path, server_.MergePatch(path, patch));
}

absl::StatusOr<json> CachedKubeApi::Delete(const std::string& path) const {
  absl::StatusOr<json> answer = server_.Delete(path);
  // The answer may be the object marked for deletion or a Status: either
  // way the next read asks the server.
  if (const std::optional<Target> target = Parse(path)) {
    absl::MutexLock lock(&mu_);
    Drop(target->item);
  }
  return answer;
}

absl::Status CachedKubeApi::Watch(
    const std::string& path, const EventHandler& on_event,
    const std::function<bool()>& cancelled) const {
  return server_.Watch(path, on_event, cancelled);
}

void CachedKubeApi::Replace(const Resource& kind, const json& items,
                            const std::string& list_version) {
  const std::optional<size_t> k = KindIndex(kind);
  if (!k) return;
  // Copies made before taking the lock, so readers wait only for the swap.
  std::vector<std::pair<std::string, Kept>> listed;
  if (items.is_array()) {
    for (const json& item : items) {
      std::string key = KeyOf(*k, item);
      if (!key.empty()) listed.emplace_back(std::move(key), Keep(item));
    }
  }
  absl::MutexLock lock(&mu_);
  std::set<std::string> keys;
  for (auto& [key, kept] : listed) {
    Store(*k, key, std::move(kept));
    keys.insert(key);
  }
  // Not in the list: gone, unless written after the list was taken.
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.kind == *k && !keys.contains(it->first) &&
        !OlderVersion(list_version, it->second.version)) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  synced_[*k] = true;
}

void CachedKubeApi::Apply(const Resource& kind, const std::string& type,
                          const json& object) {
  const std::optional<size_t> k = KindIndex(kind);
  if (!k) return;
  const std::string key = KeyOf(*k, object);
  if (key.empty()) return;
  if (type == "ADDED" || type == "MODIFIED") {
    Kept kept = Keep(object);
    absl::MutexLock lock(&mu_);
    Store(*k, key, std::move(kept));
  } else if (type == "DELETED") {
    // Kept as a version without an object, so that an older answer still
    // in flight cannot bring it back; the next Replace forgets it.
    std::string version = MetadataField(object, "resourceVersion");
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && OlderVersion(version, it->second.version))
      return;
    entries_[key] = Entry{*k, nullptr, std::move(version)};
  }
}

void CachedKubeApi::Unsync(const Resource& kind) {
  const std::optional<size_t> k = KindIndex(kind);
  if (!k) return;
  absl::MutexLock lock(&mu_);
  synced_[*k] = false;
}

bool CachedKubeApi::Synced(const Resource& kind) const {
  const std::optional<size_t> k = KindIndex(kind);
  if (!k) return false;
  absl::MutexLock lock(&mu_);
  return synced_[*k];
}

size_t CachedKubeApi::Size() const {
  absl::MutexLock lock(&mu_);
  size_t size = 0;
  for (const auto& [key, entry] : entries_) size += entry.object != nullptr;
  return size;
}

}  // namespace smartcanary::kube
