#include "controller/controller.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "spdlog/spdlog.h"

namespace smartcanary {
namespace {

using nlohmann::json;

// The API server closes watches after this; the re-list that follows doubles
// as a periodic resync.
constexpr int kWatchTimeoutSeconds = 300;
// Watches: CanaryRollouts, VirtualServices, DestinationRules.
constexpr int kWatches = 3;
// Watches that only feed the cache: the two template kinds.
constexpr int kTemplateWatches = 2;
// A watch silent for this long, or a worker busy with one reconcile for this
// long, is stuck (a watch polls for cancellation about once a second; a
// reconcile is API calls with their own timeouts, never a wait on analysis).
constexpr absl::Duration kStuckAfter = absl::Minutes(3);

std::string KeyOf(const json& object) {
  const json& meta = object.value("metadata", json::object());
  return absl::StrCat(meta.value("namespace", ""), "/", meta.value("name", ""));
}

absl::Duration Backoff(int failures) {
  return std::min(absl::Milliseconds(250) * (1 << std::min(failures, 8)),
                  absl::Seconds(30));
}

}  // namespace

Controller::Controller(const kube::KubeApi& client, Reconciler& reconciler,
                       std::string ns, Metrics& metrics, int workers,
                       kube::CachedKubeApi* cache)
    : client_(client),
      reconciler_(reconciler),
      namespace_(std::move(ns)),
      workers_(std::max(1, workers)),
      cache_(cache),
      beats_(kWatches + std::max(1, workers) + kTemplateWatches, absl::Now()),
      listed_(beats_.size(), false),
      metrics_(metrics) {}

Controller::~Controller() { Stop(); }

void Controller::Start() {
  threads_.emplace_back([this] {
    ListWatch(kube::kCanaryRollouts, 0,
              [this](const std::string&, const json& object) {
                queue_.Add(KeyOf(object));
              });
  });
  // Someone else's edit of a VirtualService or DestinationRule wakes the
  // rollouts routed through it; their reconcile puts the weights back.
  int loop = 1;
  for (const kube::Resource* mesh :
       {&kube::kVirtualServices, &kube::kDestinationRules}) {
    threads_.emplace_back([this, mesh, loop] {
      ListWatch(*mesh, loop, [this, mesh](const std::string&, const json& o) {
        const json& meta = o.value("metadata", json::object());
        for (const std::string& key : reconciler_.RolloutsUsing(
                 absl::StrCat(mesh->plural, "/", meta.value("namespace", ""),
                              "/", meta.value("name", "")))) {
          queue_.Add(key);
        }
      });
    });
    ++loop;
  }
  for (int i = 0; i < workers_; ++i)
    threads_.emplace_back([this, i] { WorkLoop(kWatches + i); });
  if (cache_ == nullptr) return;
  // Template edits take effect at each rollout's next reconcile, as
  // before: these watches wake nothing.
  loop = kWatches + workers_;
  for (const kube::Resource* templates :
       {&kube::kAnalysisTemplates, &kube::kClusterAnalysisTemplates}) {
    threads_.emplace_back([this, templates, loop] {
      ListWatch(*templates, loop, [](const std::string&, const json&) {});
    });
    ++loop;
  }
}

void Controller::Stop() {
  stopping_ = true;
  queue_.ShutDown();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

void Controller::Trigger(const std::string& ns, const std::string& name,
                         absl::Duration delay) {
  queue_.Add(absl::StrCat(ns, "/", name), delay);
}

void Controller::Trigger(const std::string& key) { queue_.Add(key); }

void Controller::Beat(int loop) {
  absl::MutexLock lock(&mu_);
  beats_[loop] = absl::Now();
}

absl::Status Controller::Healthy(absl::Time now) const {
  absl::MutexLock lock(&mu_);
  // The template watches are best effort (they may lack RBAC): not counted.
  for (size_t i = 0; i < static_cast<size_t>(kWatches + workers_); ++i) {
    if (now - beats_[i] > kStuckAfter) {
      return absl::UnavailableError(
          absl::StrCat(i < kWatches ? "watch " : "worker ", i, " silent for ",
                       absl::FormatDuration(now - beats_[i])));
    }
  }
  return absl::OkStatus();
}

bool Controller::Synced() const {
  absl::MutexLock lock(&mu_);
  return std::all_of(listed_.begin(), listed_.begin() + kWatches,
                     [](bool b) { return b; });
}

void Controller::Sleep(absl::Duration duration) {
  const absl::Time until = absl::Now() + duration;
  while (!stopping_ && absl::Now() < until)
    absl::SleepFor(absl::Milliseconds(100));
}

void Controller::ListWatch(const kube::Resource& resource, int loop,
                           const OnObject& on_object) {
  std::string resource_version;
  int failures = 0;
  const std::string collection =
      resource.Collection(resource.cluster_scoped ? "" : namespace_);
  while (!stopping_) {
    Beat(loop);
    if (resource_version.empty()) {
      auto list = client_.Get(collection);
      if (!list.ok()) {
        if (cache_ != nullptr) cache_->Unsync(resource);
        spdlog::warn("listing {}: {}", resource.plural,
                     list.status().ToString());
        Sleep(Backoff(failures++));
        continue;
      }
      const json& items = list->value("items", json::array());
      resource_version =
          list->value("metadata", json::object()).value("resourceVersion", "");
      // Cached first: the reconcile a listed object queues reads it.
      if (cache_ != nullptr) cache_->Replace(resource, items, resource_version);
      for (const json& item : items) on_object("LISTED", item);
      absl::MutexLock lock(&mu_);
      listed_[loop] = true;
    }
    bool gone = false;
    const std::string path =
        absl::StrCat(collection, "?watch=1&allowWatchBookmarks=true",
                     "&timeoutSeconds=", kWatchTimeoutSeconds,
                     "&resourceVersion=", resource_version);
    absl::Status watched = client_.Watch(
        path,
        [&](const json& event) {
          Beat(loop);
          const std::string type = event.value("type", "");
          const json& object = event.value("object", json::object());
          if (!object.is_object()) return true;
          if (type == "ERROR") {
            gone = object.value("code", 0) == 410;
            if (!gone)
              spdlog::warn("watch {}: {}", resource.plural,
                           object.value("message", ""));
            return false;
          }
          resource_version = object.value("metadata", json::object())
                                 .value("resourceVersion", resource_version);
          if (type == "BOOKMARK") return true;
          if (cache_ != nullptr) cache_->Apply(resource, type, object);
          on_object(type, object);
          return true;
        },
        [this, loop] {
          Beat(loop);
          return stopping_.load();
        });
    // Events may have been missed: the cache waits for the next list.
    if (cache_ != nullptr && (gone || !watched.ok())) cache_->Unsync(resource);
    if (gone || absl::IsOutOfRange(watched)) {
      spdlog::info("watch {}: resourceVersion {} expired; re-listing",
                   resource.plural, resource_version);
      resource_version.clear();
      Sleep(Backoff(failures++));
    } else if (!watched.ok()) {
      spdlog::warn("watching {}: {}", resource.plural, watched.ToString());
      Sleep(Backoff(failures++));
    } else {
      failures = 0;
      resource_version.clear();  // periodic resync
    }
  }
}

void Controller::WorkLoop(int loop) {
  while (!stopping_) {
    {
      // Waiting for work is not being stuck: an idle worker never ages.
      absl::MutexLock lock(&mu_);
      beats_[loop] = absl::InfiniteFuture();
    }
    auto key = queue_.Next();
    if (!key) return;
    Beat(loop);  // busy from now: stuck if this reconcile never ends
    std::vector<std::string> parts =
        absl::StrSplit(*key, absl::MaxSplits('/', 1));
    if (parts.size() != 2) {
      queue_.Done(*key);
      continue;
    }
    auto requeue = reconciler_.Reconcile(parts[0], parts[1], absl::Now());
    metrics_.Count("canaryd_reconciles_total");
    if (requeue.ok()) {
      {
        absl::MutexLock lock(&mu_);
        failures_.erase(*key);
      }
      queue_.Add(*key, *requeue);
      queue_.Done(*key);
      continue;
    }
    metrics_.Count("canaryd_reconcile_errors_total");
    int failures;
    {
      absl::MutexLock lock(&mu_);
      failures = ++failures_[*key];
    }
    // A conflict means someone else wrote first: re-read at once (but not
    // forever at once: repeated conflicts back off too).
    const absl::Duration delay =
        absl::IsAborted(requeue.status()) && failures < 3 ? absl::ZeroDuration()
                                                          : Backoff(failures);
    spdlog::warn("{}: reconcile failed (retry in {}): {}", *key,
                 absl::FormatDuration(delay), requeue.status().ToString());
    queue_.Add(*key, delay);
    queue_.Done(*key);
  }
}

}  // namespace smartcanary
