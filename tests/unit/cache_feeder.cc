#include "tests/unit/cache_feeder.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace smartcanary::testing {
namespace {

using nlohmann::json;

int64_t VersionOf(const json& object) {
  int64_t version = -1;
  if (object.is_object() && object.contains("metadata") &&
      object["metadata"].is_object()) {
    (void)absl::SimpleAtoi(
        object["metadata"].value("resourceVersion", std::string()), &version);
  }
  return version;
}

}  // namespace

CacheFeeder::CacheFeeder(kube::FakeKube& kube, kube::CachedKubeApi& cache,
                         std::vector<kube::Resource> kinds, std::string ns)
    : kube_(kube),
      cache_(cache),
      kinds_(std::move(kinds)),
      namespace_(std::move(ns)),
      seen_(kinds_.size(), -1) {
  for (size_t i = 0; i < kinds_.size(); ++i)
    threads_.emplace_back([this, i] { Feed(i); });
}

CacheFeeder::~CacheFeeder() {
  stopping_ = true;
  for (std::thread& thread : threads_) thread.join();
}

void CacheFeeder::Feed(size_t index) {
  const kube::Resource& kind = kinds_[index];
  const std::string collection =
      kind.Collection(kind.cluster_scoped ? "" : namespace_);
  std::string version;
  while (!stopping_) {
    if (version.empty()) {
      auto list = kube_.Get(collection);
      if (!list.ok()) {
        absl::SleepFor(absl::Milliseconds(20));
        continue;
      }
      version = (*list)["metadata"].value("resourceVersion", "");
      cache_.Replace(kind, list->value("items", json::array()), version);
      absl::MutexLock lock(&mu_);
      seen_[index] = VersionOf(*list);
    }
    (void)kube_.Watch(
        absl::StrCat(collection, "?watch=1&allowWatchBookmarks=true",
                     "&resourceVersion=", version),
        [&](const json& event) {
          const std::string type = event.value("type", "");
          const json& object = event["object"];
          if (type == "ERROR") {
            version.clear();
            return false;
          }
          if (type != "BOOKMARK") cache_.Apply(kind, type, object);
          version = object["metadata"].value("resourceVersion", version);
          absl::MutexLock lock(&mu_);
          seen_[index] = VersionOf(object);
          return true;
        },
        [this] { return stopping_.load(); });
  }
}

bool CacheFeeder::CatchUp() {
  int64_t newest = 0;
  if (!absl::SimpleAtoi(kube_.ResourceVersion(), &newest)) return false;
  const absl::Time give_up = absl::Now() + absl::Minutes(1);
  auto caught_up = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (int64_t seen : seen_) {
      if (seen < newest) return false;
    }
    return true;
  };
  while (absl::Now() < give_up) {
    // A watch not yet open misses a bookmark: ask again until all have it.
    kube_.Bookmark();
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&caught_up),
                             absl::Milliseconds(50))) {
      return true;
    }
  }
  return false;
}

}  // namespace smartcanary::testing
