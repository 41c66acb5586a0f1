#include "controller/controller.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "controller/kube/resources.h"
#include "spdlog/spdlog.h"

namespace smartcanary {
namespace {

using nlohmann::json;

// The API server closes watches after this; the re-list that follows doubles
// as a periodic resync.
constexpr int kWatchTimeoutSeconds = 300;

std::string KeyOf(const json& object) {
  const json& meta = object.value("metadata", json::object());
  return absl::StrCat(meta.value("namespace", ""), "/", meta.value("name", ""));
}

absl::Duration Backoff(int failures) {
  return std::min(absl::Milliseconds(250) * (1 << std::min(failures, 8)),
                  absl::Seconds(30));
}

}  // namespace

Controller::Controller(const kube::KubeClient& client, Reconciler& reconciler,
                       std::string ns, Metrics& metrics)
    : client_(client),
      reconciler_(reconciler),
      namespace_(std::move(ns)),
      metrics_(metrics) {}

Controller::~Controller() { Stop(); }

void Controller::Start() {
  watcher_ = std::thread([this] { WatchLoop(); });
  worker_ = std::thread([this] { WorkLoop(); });
}

void Controller::Stop() {
  stopping_ = true;
  queue_.ShutDown();
  if (watcher_.joinable()) watcher_.join();
  if (worker_.joinable()) worker_.join();
}

void Controller::Trigger(const std::string& ns, const std::string& name) {
  queue_.Add(absl::StrCat(ns, "/", name));
}

void Controller::Sleep(absl::Duration duration) {
  const absl::Time until = absl::Now() + duration;
  while (!stopping_ && absl::Now() < until)
    absl::SleepFor(absl::Milliseconds(100));
}

absl::StatusOr<std::string> Controller::ListAndQueue() {
  auto list = client_.Get(kube::kCanaryRollouts.Collection(namespace_));
  if (!list.ok()) return list.status();
  for (const json& item : list->value("items", json::array()))
    queue_.Add(KeyOf(item));
  return (*list)["metadata"].value("resourceVersion", "");
}

void Controller::WatchLoop() {
  std::string resource_version;
  int failures = 0;
  while (!stopping_) {
    if (resource_version.empty()) {
      auto listed = ListAndQueue();
      if (!listed.ok()) {
        spdlog::warn("listing CanaryRollouts: {}", listed.status().ToString());
        Sleep(Backoff(failures++));
        continue;
      }
      resource_version = *listed;
    }
    bool gone = false;
    const std::string path =
        absl::StrCat(kube::kCanaryRollouts.Collection(namespace_),
                     "?watch=1&allowWatchBookmarks=true",
                     "&timeoutSeconds=", kWatchTimeoutSeconds,
                     "&resourceVersion=", resource_version);
    absl::Status watched = client_.Watch(
        path,
        [&](const json& event) {
          const std::string type = event.value("type", "");
          const json& object = event.value("object", json::object());
          if (type == "ERROR") {
            gone = object.value("code", 0) == 410;
            if (!gone)
              spdlog::warn("watch error: {}", object.value("message", ""));
            return false;
          }
          resource_version =
              object["metadata"].value("resourceVersion", resource_version);
          if (type != "BOOKMARK") queue_.Add(KeyOf(object));
          return true;
        },
        [this] { return stopping_.load(); });
    if (gone || absl::IsOutOfRange(watched)) {
      spdlog::info("watch resourceVersion {} expired; re-listing",
                   resource_version);
      resource_version.clear();
    } else if (!watched.ok()) {
      spdlog::warn("watching CanaryRollouts: {}", watched.ToString());
      Sleep(Backoff(failures++));
    } else {
      failures = 0;
      resource_version.clear();  // periodic resync
    }
  }
}

void Controller::WorkLoop() {
  while (auto key = queue_.Next()) {
    std::vector<std::string> parts =
        absl::StrSplit(*key, absl::MaxSplits('/', 1));
    if (parts.size() != 2) continue;
    auto requeue = reconciler_.Reconcile(parts[0], parts[1], absl::Now());
    metrics_.Count("canaryd_reconciles_total");
    if (requeue.ok()) {
      failures_.erase(*key);
      queue_.Add(*key, *requeue);
      continue;
    }
    metrics_.Count("canaryd_reconcile_errors_total");
    const int failures = ++failures_[*key];
    // A conflict means someone else wrote first: re-read at once.
    const absl::Duration delay = absl::IsAborted(requeue.status())
                                     ? absl::ZeroDuration()
                                     : Backoff(failures);
    spdlog::warn("{}: reconcile failed (retry in {}): {}", *key,
                 absl::FormatDuration(delay), requeue.status().ToString());
    queue_.Add(*key, delay);
  }
}

}  // namespace smartcanary
