#include "controller/kube/fake_kube.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "controller/kube/fake_kube_query.h"

namespace smartcanary::kube {
namespace {

using fake::ObjectPath;
using fake::ParseObjectPath;
using fake::Selector;
using nlohmann::json;

// How the API server names each error it answers.
const char* ReasonFor(int code) {
  switch (code) {
    case 400:
      return "BadRequest";
    case 404:
      return "NotFound";
    case 409:
      return "Conflict";
    case 410:
      return "Expired";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 503:
      return "ServiceUnavailable";
    default:
      return "InternalError";
  }
}

absl::Status HttpError(int code, const std::string& method,
                       const std::string& path, absl::string_view message,
                       const char* reason = nullptr) {
  return StatusFromHttp(
      code, method, path,
      StatusJson(code, reason != nullptr ? reason : ReasonFor(code), message)
          .dump());
}

std::string Str(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

json& Metadata(json& object) {
  json& metadata = object["metadata"];
  if (!metadata.is_object()) metadata = json::object();
  return metadata;
}

const json& MetadataOf(const json& object) {
  static const json kEmpty = json::object();
  auto it = object.find("metadata");
  return it != object.end() && it->is_object() ? *it : kEmpty;
}

std::vector<std::string> Finalizers(const json& object) {
  std::vector<std::string> finalizers;
  const json& metadata = MetadataOf(object);
  auto it = metadata.find("finalizers");
  if (it == metadata.end() || !it->is_array()) return finalizers;
  for (const json& finalizer : *it)
    if (finalizer.is_string()) finalizers.push_back(finalizer);
  return finalizers;
}

int64_t Generation(const json& object) {
  const json& metadata = MetadataOf(object);
  auto it = metadata.find("generation");
  return it != metadata.end() && it->is_number_integer() ? it->get<int64_t>()
                                                         : 0;
}

// The object without what the server keeps apart from its spec.
json SpecPart(json object) {
  object.erase("metadata");
  object.erase("status");
  return object;
}

json WithoutVersion(json object) {
  Metadata(object).erase("resourceVersion");
  return object;
}

std::string ApiVersionOf(const std::string& group_version) {
  absl::string_view text = group_version;
  if (!absl::ConsumePrefix(&text, "/apis/"))
    absl::ConsumePrefix(&text, "/api/");
  return std::string(text);
}

// The query's selectors, both of which an object must match.
struct Filter {
  Selector labels;
  Selector fields;
  bool Matches(const json& object) const {
    return labels.Matches(object) && fields.Matches(object);
  }
};

absl::StatusOr<Filter> FilterOf(const ObjectPath& path) {
  auto labels = Selector::Parse(path.Param("labelSelector"), false);
  if (!labels.ok()) return labels.status();
  auto fields = Selector::Parse(path.Param("fieldSelector"), true);
  if (!fields.ok()) return fields.status();
  return Filter{*labels, *fields};
}

}  // namespace

FakeKube::FakeKube(FakeKubeOptions options) : options_(std::move(options)) {}

std::string FakeKube::Timestamp() const {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", options_.now(),
                          absl::UTCTimeZone());
}

absl::Status FakeKube::Enter(const std::string& method,
                             const std::string& path) const {
  Hook hook;
  {
    absl::MutexLock lock(&mu_);
    ++calls_[method];
    ++calls_[""];
    hook = hook_;
  }
  if (hook) {
    if (absl::Status status = hook(method, path); !status.ok()) return status;
  }
  absl::MutexLock lock(&mu_);
  for (auto it = failures_.begin(); it != failures_.end(); ++it) {
    if (!it->method.empty() && it->method != method) continue;
    const Failure failure = *it;
    if (--it->count <= 0) failures_.erase(it);
    if (failure.http_code == 0) return failure.status;
    return HttpError(failure.http_code, method, path, failure.message);
  }
  return absl::OkStatus();
}

void FakeKube::Record(const std::string& type, const std::string& key,
                      const json& object) const {
  log_.push_back({version_, type, key, object});
}

absl::StatusOr<json> FakeKube::Get(const std::string& path) const {
  if (absl::Status entered = Enter("GET", path); !entered.ok()) return entered;
  auto parsed = ParseObjectPath(path);
  if (!parsed.ok())
    return HttpError(404, "GET", path, parsed.status().message());
  absl::MutexLock lock(&mu_);
  if (!parsed->name.empty()) {
    auto it = objects_.find(parsed->ItemKey());
    if (it == objects_.end()) {
      return HttpError(404, "GET", path,
                       absl::StrCat(parsed->Resource(), " \"", parsed->name,
                                    "\" not found"));
    }
    return it->second;
  }
  auto filter = FilterOf(*parsed);
  if (!filter.ok())
    return HttpError(400, "GET", path, filter.status().message());
  int limit = 0;
  if (!parsed->Param("limit").empty() &&
      !absl::SimpleAtoi(parsed->Param("limit"), &limit)) {
    return HttpError(400, "GET", path, "limit: not a number");
  }
  const std::string after = parsed->Param("continue");
  json items = json::array();
  std::string last_key, next;  // a page ends after the key `continue` names
  for (auto it = after.empty() ? objects_.begin() : objects_.upper_bound(after);
       it != objects_.end(); ++it) {
    auto item = ParseObjectPath(it->first);
    if (!item.ok() || !parsed->Holds(*item) || !filter->Matches(it->second))
      continue;
    if (limit > 0 && static_cast<int>(items.size()) == limit) {
      next = last_key;
      break;
    }
    items.push_back(it->second);
    last_key = it->first;
  }
  json list = {
      {"kind", items.empty() ? "List" : Str(items[0], "kind") + "List"},
      {"apiVersion", ApiVersionOf(parsed->group_version)},
      {"metadata", {{"resourceVersion", std::to_string(version_)}}},
      {"items", std::move(items)}};
  if (!next.empty()) list["metadata"]["continue"] = next;
  return list;
}

absl::StatusOr<ListResult> FakeKube::List(const std::string& collection) const {
  return ListPages([this](const std::string& page) { return Get(page); },
                   collection, options_.list_page_size);
}

absl::StatusOr<json> FakeKube::Create(const std::string& method,
                                      const std::string& path, json body,
                                      bool keep_status) const {
  auto parsed = ParseObjectPath(path);
  if (!parsed.ok())
    return HttpError(404, method, path, parsed.status().message());
  if (!parsed->name.empty() || !body.is_object()) {
    return HttpError(400, method, path,
                     "create: POST an object to a collection");
  }
  json& metadata = Metadata(body);
  std::string name = Str(metadata, "name");
  if (name.empty() && !Str(metadata, "generateName").empty()) {
    name = absl::StrCat(Str(metadata, "generateName"), "x", ++uids_);
  }
  if (name.empty()) {
    return HttpError(422, method, path,
                     "metadata.name: Required value: name or generateName is "
                     "required");
  }
  if (!parsed->ns.empty()) {
    const std::string ns = Str(metadata, "namespace");
    if (!ns.empty() && ns != parsed->ns) {
      return HttpError(400, method, path,
                       "the namespace of the provided object does not match "
                       "the namespace sent on the request");
    }
    metadata["namespace"] = parsed->ns;
  }
  parsed->name = name;
  const std::string key = parsed->ItemKey();
  if (objects_.count(key) > 0) {
    return HttpError(
        409, method, path,
        absl::StrCat(parsed->Resource(), " \"", name, "\" already exists"),
        "AlreadyExists");
  }
  metadata["name"] = name;
  metadata["uid"] = absl::StrCat("fake-uid-", ++uids_);
  metadata["creationTimestamp"] = Timestamp();
  metadata["generation"] = 1;
  metadata.erase("deletionTimestamp");
  metadata.erase("deletionGracePeriodSeconds");
  metadata["resourceVersion"] = std::to_string(++version_);
  if (!keep_status) body.erase("status");
  objects_[key] = body;
  Record("ADDED", key, body);
  return body;
}

absl::StatusOr<json> FakeKube::Post(const std::string& path,
                                    const json& body) const {
  if (absl::Status entered = Enter("POST", path); !entered.ok()) return entered;
  absl::MutexLock lock(&mu_);
  return Create("POST", path, body, false);
}

absl::StatusOr<json> FakeKube::Put(const std::string& path,
                                   const json& body) const {
  return Write("PUT", path, body, false, false);
}

absl::StatusOr<json> FakeKube::JsonPatch(const std::string& path,
                                         const json& ops) const {
  return Write("PATCH", path, ops, true, false);
}

absl::StatusOr<json> FakeKube::MergePatch(const std::string& path,
                                          const json& patch) const {
  return Write("PATCH", path, patch, false, true);
}

absl::StatusOr<json> FakeKube::Write(const std::string& method,
                                     const std::string& path, const json& body,
                                     bool json_patch, bool merge_patch) const {
  if (absl::Status entered = Enter(method, path); !entered.ok()) return entered;
  auto parsed = ParseObjectPath(path);
  if (!parsed.ok())
    return HttpError(404, method, path, parsed.status().message());
  if (parsed->name.empty())
    return HttpError(405, method, path, "write to a collection");
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(parsed->ItemKey());
  if (it == objects_.end()) {
    return HttpError(
        404, method, path,
        absl::StrCat(parsed->Resource(), " \"", parsed->name, "\" not found"));
  }
  const json old = it->second;
  json candidate;
  if (json_patch) {
    try {
      candidate = old.patch(body);
    } catch (const json::exception& e) {
      return HttpError(422, method, path, e.what());
    }
  } else if (merge_patch) {
    candidate = old;
    candidate.merge_patch(body);
  } else {
    candidate = body;
    if (!candidate.is_object())
      return HttpError(400, method, path, "the body is not an object");
    const std::string name = Str(MetadataOf(candidate), "name");
    if (!name.empty() && name != parsed->name) {
      return HttpError(400, method, path,
                       absl::StrCat("the name of the object (", name,
                                    ") does not match the name on the URL (",
                                    parsed->name, ")"));
    }
    if (Str(MetadataOf(candidate), "resourceVersion").empty()) {
      return HttpError(
          422, method, path,
          absl::StrCat(parsed->Resource(), " \"", parsed->name,
                       "\" is invalid: metadata.resourceVersion: Invalid "
                       "value: 0x0: must be specified for an update"));
    }
  }
  if (!candidate.is_object())
    return HttpError(422, method, path, "the result is not an object");
  const std::string version = Str(MetadataOf(candidate), "resourceVersion");
  if (!version.empty() && version != Str(MetadataOf(old), "resourceVersion")) {
    return HttpError(
        409, method, path,
        absl::StrCat("Operation cannot be fulfilled on ", parsed->Resource(),
                     " \"", parsed->name,
                     "\": the object has been modified; please apply your "
                     "changes to the latest version and try again"));
  }
  return Commit(method, path, parsed->ItemKey(), old, std::move(candidate),
                parsed->subresource == "status");
}

absl::StatusOr<json> FakeKube::Commit(const std::string& method,
                                      const std::string& path,
                                      const std::string& key, const json& old,
                                      json candidate, bool status_only) const {
  json next;
  if (status_only) {
    next = old;
    if (candidate.contains("status")) {
      next["status"] = candidate["status"];
    } else {
      next.erase("status");
    }
  } else {
    next = std::move(candidate);
    if (old.contains("status")) {
      next["status"] = old["status"];
    } else {
      next.erase("status");
    }
    json& metadata = Metadata(next);
    const json& old_metadata = MetadataOf(old);
    // Fields only the server sets.
    for (const char* field :
         {"name", "namespace", "uid", "creationTimestamp", "generation",
          "deletionTimestamp", "deletionGracePeriodSeconds"}) {
      if (old_metadata.contains(field)) {
        metadata[field] = old_metadata[field];
      } else {
        metadata.erase(field);
      }
    }
    if (old_metadata.contains("deletionTimestamp")) {
      const std::vector<std::string> before = Finalizers(old);
      for (const std::string& finalizer : Finalizers(next)) {
        if (std::find(before.begin(), before.end(), finalizer) ==
            before.end()) {
          return HttpError(422, method, path,
                           "metadata.finalizers: Forbidden: no new finalizers "
                           "can be added if the object is being deleted");
        }
      }
    }
    if (SpecPart(next) != SpecPart(old))
      metadata["generation"] = Generation(old) + 1;
  }
  // Nothing changed: no new version, no event, as on the real server.
  if (WithoutVersion(next) == WithoutVersion(old)) return old;
  Metadata(next)["resourceVersion"] = std::to_string(++version_);
  if (MetadataOf(next).contains("deletionTimestamp") &&
      Finalizers(next).empty()) {
    objects_.erase(key);
    Record("DELETED", key, next);
    return next;
  }
  objects_[key] = next;
  Record("MODIFIED", key, next);
  return next;
}

absl::StatusOr<json> FakeKube::Delete(const std::string& path) const {
  if (absl::Status entered = Enter("DELETE", path); !entered.ok())
    return entered;
  auto parsed = ParseObjectPath(path);
  if (!parsed.ok())
    return HttpError(404, "DELETE", path, parsed.status().message());
  if (parsed->name.empty() || !parsed->subresource.empty())
    return HttpError(405, "DELETE", path, "delete an object by its path");
  absl::MutexLock lock(&mu_);
  const std::string key = parsed->ItemKey();
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    return HttpError(
        404, "DELETE", path,
        absl::StrCat(parsed->Resource(), " \"", parsed->name, "\" not found"));
  }
  json object = it->second;
  json& metadata = Metadata(object);
  if (!Finalizers(object).empty()) {
    if (metadata.contains("deletionTimestamp")) return object;
    metadata["deletionTimestamp"] = Timestamp();
    metadata["deletionGracePeriodSeconds"] = 0;
    metadata["generation"] = Generation(object) + 1;
    metadata["resourceVersion"] = std::to_string(++version_);
    it->second = object;
    Record("MODIFIED", key, object);
    return object;
  }
  metadata["resourceVersion"] = std::to_string(++version_);
  objects_.erase(it);
  Record("DELETED", key, object);
  return object;
}

absl::Status FakeKube::Watch(const std::string& path,
                             const EventHandler& on_event,
                             const std::function<bool()>& cancelled) const {
  if (absl::Status entered = Enter("WATCH", path); !entered.ok())
    return entered;
  auto parsed = ParseObjectPath(path);
  if (!parsed.ok())
    return HttpError(404, "WATCH", path, parsed.status().message());
  if (!parsed->name.empty())
    return HttpError(405, "WATCH", path, "watch a collection");
  auto filter = FilterOf(*parsed);
  if (!filter.ok())
    return HttpError(400, "WATCH", path, filter.status().message());
  const std::string bookmark_param = parsed->Param("allowWatchBookmarks");
  const bool wants_bookmarks =
      bookmark_param == "true" || bookmark_param == "1";
  const std::string from = parsed->Param("resourceVersion");
  auto holds = [&](const std::string& key, const json& object) {
    auto item = ParseObjectPath(key);
    return item.ok() && parsed->Holds(*item) && filter->Matches(object);
  };
  auto expired = [&](int64_t version) {
    return json{{"type", "ERROR"},
                {"object", StatusJson(410, "Expired",
                                      absl::StrCat("too old resource version: ",
                                                   version))}};
  };

  std::vector<json> pending;
  int64_t cursor = 0, bookmarks_seen = 0, ends_seen = 0;
  bool ended = false;
  std::string kind;
  {
    absl::MutexLock lock(&mu_);
    ++open_watches_;
    bookmarks_seen = bookmarks_;
    ends_seen = watch_ends_;
    if (from.empty() || from == "0") {
      for (const auto& [key, object] : objects_) {
        if (holds(key, object))
          pending.push_back({{"type", "ADDED"}, {"object", object}});
      }
      cursor = version_;
    } else if (!absl::SimpleAtoi(from, &cursor)) {
      --open_watches_;
      return HttpError(400, "WATCH", path, "resourceVersion: not a number");
    } else if (cursor < compacted_) {
      pending.push_back(expired(cursor));
      ended = true;
    }
  }
  while (true) {
    bool stopped = false;
    for (const json& event : pending) {
      if (!on_event(event)) {
        stopped = true;
        break;
      }
    }
    pending.clear();
    if (stopped || ended || (cancelled && cancelled())) break;
    absl::MutexLock lock(&mu_);
    auto news = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return (!log_.empty() && log_.back().version > cursor) ||
             compacted_ > cursor || bookmarks_ != bookmarks_seen ||
             watch_ends_ != ends_seen;
    };
    // Wakes now and then to ask `cancelled`.
    mu_.AwaitWithTimeout(absl::Condition(&news), absl::Milliseconds(50));
    if (compacted_ > cursor) {
      pending.push_back(expired(cursor));
      ended = true;
      continue;
    }
    for (const Change& change : log_) {
      if (change.version <= cursor) continue;
      cursor = change.version;
      if (!holds(change.key, change.object)) continue;
      if (kind.empty()) kind = Str(change.object, "kind");
      pending.push_back({{"type", change.type}, {"object", change.object}});
    }
    if (bookmarks_ != bookmarks_seen) {
      bookmarks_seen = bookmarks_;
      cursor = version_;
      if (wants_bookmarks) {
        pending.push_back(
            {{"type", "BOOKMARK"},
             {"object",
              {{"kind", kind},
               {"apiVersion", ApiVersionOf(parsed->group_version)},
               {"metadata",
                {{"resourceVersion", std::to_string(version_)}}}}}});
      }
    }
    if (watch_ends_ != ends_seen) ended = true;
  }
  absl::MutexLock lock(&mu_);
  --open_watches_;
  return absl::OkStatus();
}

absl::StatusOr<json> FakeKube::Seed(const std::string& collection,
                                    json object) {
  absl::MutexLock lock(&mu_);
  return Create("SEED", collection, std::move(object), true);
}

absl::StatusOr<json> FakeKube::Peek(const std::string& path) const {
  auto parsed = ParseObjectPath(path);
  if (!parsed.ok()) return parsed.status();
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(parsed->ItemKey());
  if (it == objects_.end()) return HttpError(404, "PEEK", path, "not found");
  return it->second;
}

void FakeKube::FailNext(int count, int http_code, const std::string& method,
                        const std::string& message) {
  absl::MutexLock lock(&mu_);
  failures_.push_back({count, http_code, method, message, absl::OkStatus()});
}

void FakeKube::FailNext(int count, absl::Status status,
                        const std::string& method) {
  absl::MutexLock lock(&mu_);
  failures_.push_back({count, 0, method, "", std::move(status)});
}

void FakeKube::SetHook(Hook hook) {
  absl::MutexLock lock(&mu_);
  hook_ = std::move(hook);
}

int FakeKube::Calls(const std::string& method) const {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(method);
  return it == calls_.end() ? 0 : it->second;
}

std::string FakeKube::ResourceVersion() const {
  absl::MutexLock lock(&mu_);
  return std::to_string(version_);
}

void FakeKube::Compact() {
  absl::MutexLock lock(&mu_);
  compacted_ = version_;
  log_.clear();
}

void FakeKube::Bookmark() {
  absl::MutexLock lock(&mu_);
  ++bookmarks_;
}

void FakeKube::EndWatches() {
  absl::MutexLock lock(&mu_);
  ++watch_ends_;
}

int FakeKube::OpenWatches() const {
  absl::MutexLock lock(&mu_);
  return open_watches_;
}

}  // namespace smartcanary::kube
