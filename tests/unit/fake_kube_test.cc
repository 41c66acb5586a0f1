#include "controller/kube/fake_kube.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "controller/kube/resources.h"
#include "gtest/gtest.h"

namespace smartcanary::kube {
namespace {

using nlohmann::json;

const std::string kRollouts = kCanaryRollouts.Collection("ns");
const std::string kItem = kCanaryRollouts.Item("ns", "web");

json Rollout(const std::string& name, int replicas = 1) {
  return {{"apiVersion", kCanaryRolloutApiVersion},
          {"kind", "CanaryRollout"},
          {"metadata", {{"name", name}, {"labels", {{"app", name}}}}},
          {"spec", {{"replicas", replicas}}},
          {"status", {{"phase", "Progressing"}}}};
}

std::string VersionOf(const json& object) {
  return object["metadata"]["resourceVersion"];
}
int64_t GenerationOf(const json& object) {
  return object["metadata"]["generation"];
}

TEST(FakeKubeTest, CreateSetsServerFieldsAndDropsStatus) {
  FakeKube kube;
  auto created = kube.Post(kRollouts, Rollout("web"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ((*created)["metadata"]["namespace"], "ns");
  EXPECT_EQ(GenerationOf(*created), 1);
  EXPECT_FALSE(VersionOf(*created).empty());
  EXPECT_FALSE((*created)["metadata"]["uid"].get<std::string>().empty());
  EXPECT_FALSE(created->contains("status"));
  auto got = kube.Get(kItem);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, *created);
  EXPECT_TRUE(
      absl::IsAlreadyExists(kube.Post(kRollouts, Rollout("web")).status()));
}

TEST(FakeKubeTest, ErrorsReadAsTheRealClientsDo) {
  FakeKube kube;
  auto missing = kube.Get(kItem);
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_EQ(
      missing.status().message(),
      "GET " + kItem + ": canaryrollouts.smartcanary.dev \"web\" not found");
}

TEST(FakeKubeTest, PutNeedsTheCurrentResourceVersion) {
  FakeKube kube;
  json created = *kube.Post(kRollouts, Rollout("web"));
  json stale = created;
  json update = created;
  update["spec"]["replicas"] = 2;
  auto written = kube.Put(kItem, update);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_NE(VersionOf(*written), VersionOf(created));

  stale["spec"]["replicas"] = 3;
  EXPECT_TRUE(absl::IsAborted(kube.Put(kItem, stale).status()));
  json unversioned = *written;
  unversioned["metadata"].erase("resourceVersion");
  EXPECT_TRUE(absl::IsInvalidArgument(kube.Put(kItem, unversioned).status()));
  EXPECT_EQ((*kube.Get(kItem))["spec"]["replicas"], 2);
}

TEST(FakeKubeTest, GenerationCountsSpecChangesOnly) {
  FakeKube kube;
  json object = *kube.Post(kRollouts, Rollout("web"));
  object["metadata"]["labels"]["tier"] = "front";
  json relabelled = *kube.Put(kItem, object);
  EXPECT_EQ(GenerationOf(relabelled), 1);
  EXPECT_NE(VersionOf(relabelled), VersionOf(object));

  relabelled["spec"]["replicas"] = 5;
  json respecced = *kube.Put(kItem, relabelled);
  EXPECT_EQ(GenerationOf(respecced), 2);

  json status = *kube.JsonPatch(
      kItem + "/status", json::array({{{"op", "add"},
                                       {"path", "/status"},
                                       {"value", {{"phase", "Healthy"}}}}}));
  EXPECT_EQ(GenerationOf(status), 2);
  EXPECT_EQ(status["status"]["phase"], "Healthy");
}

TEST(FakeKubeTest, TheStatusSubresourceSeparatesSpecAndStatusWrites) {
  FakeKube kube;
  json object = *kube.Post(kRollouts, Rollout("web"));
  // A status write that also touches spec changes only status.
  object["spec"]["replicas"] = 9;
  object["status"] = {{"phase", "Paused"}};
  json after_status = *kube.Put(kItem + "/status", object);
  EXPECT_EQ(after_status["spec"]["replicas"], 1);
  EXPECT_EQ(after_status["status"]["phase"], "Paused");
  // A main write that also touches status changes only spec.
  after_status["spec"]["replicas"] = 4;
  after_status["status"] = {{"phase", "Degraded"}};
  json after_main = *kube.Put(kItem, after_status);
  EXPECT_EQ(after_main["spec"]["replicas"], 4);
  EXPECT_EQ(after_main["status"]["phase"], "Paused");
}

TEST(FakeKubeTest, APatchGuardedByAStaleResourceVersionConflicts) {
  FakeKube kube;
  json object = *kube.Post(kRollouts, Rollout("web"));
  const std::string old_version = VersionOf(object);
  auto guarded = [&](const std::string& version) {
    return kube.JsonPatch(kItem + "/status",
                          json::array({{{"op", "replace"},
                                        {"path", "/metadata/resourceVersion"},
                                        {"value", version}},
                                       {{"op", "add"},
                                        {"path", "/status"},
                                        {"value", {{"phase", "Healthy"}}}}}));
  };
  auto first = guarded(old_version);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = guarded(old_version);
  EXPECT_TRUE(absl::IsAborted(second.status())) << second.status();
  EXPECT_NE(second.status().message().find("the object has been modified"),
            std::string::npos);

  auto merge =
      kube.MergePatch(kItem, {{"metadata", {{"resourceVersion", old_version}}},
                              {"spec", {{"replicas", 7}}}});
  EXPECT_TRUE(absl::IsAborted(merge.status())) << merge.status();
  auto unguarded = kube.MergePatch(kItem, {{"spec", {{"replicas", 7}}}});
  ASSERT_TRUE(unguarded.ok()) << unguarded.status();
  EXPECT_EQ((*unguarded)["spec"]["replicas"], 7);
}

TEST(FakeKubeTest, AFailingTestOpIsInvalidArgument) {
  FakeKube kube;
  ASSERT_TRUE(kube.Post(kRollouts, Rollout("web")).ok());
  auto patched = kube.JsonPatch(
      kItem,
      json::array(
          {{{"op", "test"}, {"path", "/spec/replicas"}, {"value", 2}},
           {{"op", "replace"}, {"path", "/spec/replicas"}, {"value", 3}}}));
  EXPECT_TRUE(absl::IsInvalidArgument(patched.status())) << patched.status();
  EXPECT_EQ((*kube.Get(kItem))["spec"]["replicas"], 1);
}

TEST(FakeKubeTest, AWriteThatChangesNothingKeepsTheVersion) {
  FakeKube kube;
  json object = *kube.Post(kRollouts, Rollout("web"));
  json same = *kube.Put(kItem, object);
  EXPECT_EQ(VersionOf(same), VersionOf(object));
}

TEST(FakeKubeTest, FinalizersHoldDeletionUntilTheLastIsRemoved) {
  FakeKube kube;
  json rollout = Rollout("web");
  rollout["metadata"]["finalizers"] = {"smartcanary.dev/traffic"};
  json created = *kube.Post(kRollouts, rollout);

  json marked = *kube.Delete(kItem);
  EXPECT_TRUE(marked["metadata"].contains("deletionTimestamp"));
  EXPECT_EQ(GenerationOf(marked), 2);
  EXPECT_TRUE(kube.Get(kItem).ok());

  json more = marked;
  more["metadata"]["finalizers"].push_back("someone.else/x");
  EXPECT_TRUE(absl::IsInvalidArgument(kube.Put(kItem, more).status()));

  auto released = kube.JsonPatch(
      kItem,
      json::array({{{"op", "remove"}, {"path", "/metadata/finalizers"}}}));
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_TRUE(absl::IsNotFound(kube.Get(kItem).status()));
}

TEST(FakeKubeTest, DeleteWithoutFinalizersRemovesAtOnce) {
  FakeKube kube;
  ASSERT_TRUE(kube.Post(kRollouts, Rollout("web")).ok());
  ASSERT_TRUE(kube.Delete(kItem).ok());
  EXPECT_TRUE(absl::IsNotFound(kube.Get(kItem).status()));
  EXPECT_TRUE(absl::IsNotFound(kube.Delete(kItem).status()));
}

TEST(FakeKubeTest, ListReadsEveryPageAndFilters) {
  FakeKube kube({.list_page_size = 2});
  for (const char* name : {"a", "b", "c", "d", "e"})
    ASSERT_TRUE(kube.Post(kRollouts, Rollout(name)).ok());
  ASSERT_TRUE(
      kube.Post(kCanaryRollouts.Collection("other"), Rollout("f")).ok());
  auto listed = kube.List(kRollouts);
  ASSERT_TRUE(listed.ok()) << listed.status();
  std::vector<std::string> names;
  for (const json& item : listed->items)
    names.push_back(item["metadata"]["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(listed->resource_version, kube.ResourceVersion());
  EXPECT_EQ(kube.Calls("GET"), 3);

  EXPECT_EQ(kube.List(kCanaryRollouts.Collection(""))->items.size(), 6u);
  auto selected = kube.List(kRollouts + "?labelSelector=app%3Dc");
  ASSERT_TRUE(selected.ok()) << selected.status();
  ASSERT_EQ(selected->items.size(), 1u);
  EXPECT_EQ(selected->items[0]["metadata"]["name"], "c");
}

TEST(FakeKubeTest, ListStartsOverWhenAContinueTokenExpires) {
  FakeKube kube({.list_page_size = 2});
  for (const char* name : {"a", "b", "c"})
    ASSERT_TRUE(kube.Post(kRollouts, Rollout(name)).ok());
  std::atomic<int> expired{0};
  kube.SetHook([&](const std::string&, const std::string& path) {
    if (path.find("continue=") != std::string::npos && expired++ == 0)
      return absl::Status(absl::OutOfRangeError("continue token expired"));
    return absl::OkStatus();
  });
  auto listed = kube.List(kRollouts);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->items.size(), 3u);
  EXPECT_EQ(kube.Calls("GET"), 4);  // page 1, (expired), page 1, page 2
}

TEST(FakeKubeTest, InjectedFailuresComeFirstAndRunOut) {
  FakeKube kube;
  json object = *kube.Post(kRollouts, Rollout("web"));
  kube.FailNext(2, 503, "PUT");
  auto first = kube.Put(kItem, object);
  EXPECT_TRUE(absl::IsUnavailable(first.status()));
  EXPECT_EQ(first.status().message(),
            "PUT " + kItem + ": injected failure (HTTP 503)");
  EXPECT_TRUE(kube.Get(kItem).ok());  // other methods unaffected
  EXPECT_TRUE(absl::IsUnavailable(kube.Put(kItem, object).status()));
  EXPECT_TRUE(kube.Put(kItem, object).ok());
  kube.FailNext(1, 409);
  EXPECT_TRUE(absl::IsAborted(kube.Get(kItem).status()));
  kube.FailNext(1, absl::UnavailableError("connection reset"), "GET");
  EXPECT_EQ(kube.Get(kItem).status(),
            absl::UnavailableError("connection reset"));
  EXPECT_EQ(kube.Calls("PUT"), 3);
}

// Runs a watch on its own thread, collecting events until `want` arrive.
class WatchCollector {
 public:
  WatchCollector(const FakeKube& kube, std::string path, size_t want)
      : thread_([this, &kube, path, want] {
          result_ = kube.Watch(
              path,
              [this, want](const json& event) {
                absl::MutexLock lock(&mu_);
                events_.push_back(event);
                return events_.size() < want;
              },
              [this] { return cancel_.load(); });
          done_.Notify();
        }) {}
  ~WatchCollector() {
    cancel_ = true;
    thread_.join();
  }
  // The events, once the watch has ended.
  std::vector<json> Events() {
    EXPECT_TRUE(done_.WaitForNotificationWithTimeout(absl::Seconds(60)));
    absl::MutexLock lock(&mu_);
    return events_;
  }
  absl::Status result() {
    done_.WaitForNotificationWithTimeout(absl::Seconds(60));
    return result_;
  }

 private:
  absl::Mutex mu_;
  std::vector<json> events_;
  std::atomic<bool> cancel_{false};
  absl::Notification done_;
  absl::Status result_;
  std::thread thread_;
};

void WaitForWatches(const FakeKube& kube, int count) {
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (kube.OpenWatches() < count && absl::Now() < give_up)
    absl::SleepFor(absl::Milliseconds(5));
  ASSERT_EQ(kube.OpenWatches(), count);
}

TEST(FakeKubeTest, WatchReplaysChangesAfterItsResourceVersion) {
  FakeKube kube;
  json a = *kube.Post(kRollouts, Rollout("a"));
  const std::string from = VersionOf(a);
  a["spec"]["replicas"] = 2;
  ASSERT_TRUE(kube.Put(kCanaryRollouts.Item("ns", "a"), a).ok());
  ASSERT_TRUE(kube.Post(kRollouts, Rollout("b")).ok());
  WatchCollector watch(kube, kRollouts + "?watch=1&resourceVersion=" + from, 3);
  WaitForWatches(kube, 1);
  ASSERT_TRUE(kube.Delete(kCanaryRollouts.Item("ns", "b")).ok());
  const std::vector<json> events = watch.Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["type"], "MODIFIED");
  EXPECT_EQ(events[0]["object"]["spec"]["replicas"], 2);
  EXPECT_EQ(events[1]["type"], "ADDED");
  EXPECT_EQ(events[1]["object"]["metadata"]["name"], "b");
  EXPECT_EQ(events[2]["type"], "DELETED");
  EXPECT_EQ(VersionOf(events[2]["object"]), kube.ResourceVersion());
}

TEST(FakeKubeTest, AWatchWithoutVersionStartsWithTheCurrentObjects) {
  FakeKube kube;
  ASSERT_TRUE(kube.Post(kRollouts, Rollout("a")).ok());
  ASSERT_TRUE(kube.Post(kRollouts, Rollout("b")).ok());
  WatchCollector watch(
      kube, kRollouts + "?watch=1&fieldSelector=metadata.name%3Db", 2);
  WaitForWatches(kube, 1);
  json b = *kube.Get(kCanaryRollouts.Item("ns", "b"));
  b["spec"]["replicas"] = 3;
  json a = *kube.Get(kCanaryRollouts.Item("ns", "a"));
  a["spec"]["replicas"] = 3;
  ASSERT_TRUE(kube.Put(kCanaryRollouts.Item("ns", "a"), a).ok());
  ASSERT_TRUE(kube.Put(kCanaryRollouts.Item("ns", "b"), b).ok());
  const std::vector<json> events = watch.Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["type"], "ADDED");
  EXPECT_EQ(events[0]["object"]["metadata"]["name"], "b");
  EXPECT_EQ(events[1]["type"], "MODIFIED");
  EXPECT_EQ(events[1]["object"]["metadata"]["name"], "b");
}

TEST(FakeKubeTest, AnExpiredVersionGivesA410ErrorEvent) {
  FakeKube kube;
  const std::string old = VersionOf(*kube.Post(kRollouts, Rollout("a")));
  ASSERT_TRUE(kube.Post(kRollouts, Rollout("b")).ok());
  kube.Compact();
  WatchCollector watch(kube, kRollouts + "?watch=1&resourceVersion=" + old, 5);
  const std::vector<json> events = watch.Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "ERROR");
  EXPECT_EQ(events[0]["object"]["code"], 410);
  EXPECT_TRUE(watch.result().ok());
}

TEST(FakeKubeTest, BookmarksGoToWatchesThatAskedAndEndWatchesEndsThem) {
  FakeKube kube;
  const std::string from = VersionOf(*kube.Post(kRollouts, Rollout("a")));
  WatchCollector asked(
      kube,
      kRollouts + "?watch=1&allowWatchBookmarks=true&resourceVersion=" + from,
      5);
  WatchCollector plain(kube, kRollouts + "?watch=1&resourceVersion=" + from, 5);
  WaitForWatches(kube, 2);
  ASSERT_TRUE(kube.Post(kRollouts, Rollout("b")).ok());
  kube.Bookmark();
  // The bookmark is delivered (or not) before the end is seen.
  kube.EndWatches();
  const std::vector<json> with = asked.Events();
  const std::vector<json> without = plain.Events();
  EXPECT_TRUE(asked.result().ok());
  ASSERT_FALSE(with.empty());
  EXPECT_EQ(with.back()["type"], "BOOKMARK");
  EXPECT_EQ(VersionOf(with.back()["object"]), kube.ResourceVersion());
  for (const json& event : without) EXPECT_NE(event["type"], "BOOKMARK");
  EXPECT_EQ(kube.OpenWatches(), 0);
}

TEST(FakeKubeTest, AWatchHandlerMayWriteBackIntoTheFake) {
  FakeKube kube;
  ASSERT_TRUE(kube.Post(kRollouts, Rollout("a")).ok());
  int seen = 0;
  absl::Status watched = kube.Watch(
      kRollouts + "?watch=1",
      [&](const json& event) {
        ++seen;
        if (event["type"] == "ADDED") {
          json object = event["object"];
          object["spec"]["replicas"] = 2;
          EXPECT_TRUE(kube.Put(kCanaryRollouts.Item("ns", "a"), object).ok());
          return true;
        }
        return false;  // the MODIFIED of our own write
      },
      nullptr);
  EXPECT_TRUE(watched.ok());
  EXPECT_EQ(seen, 2);
}

TEST(FakeKubeTest, AHookRunsBeforeEachCallAndCanFailIt) {
  FakeKube kube;
  std::vector<std::string> seen;
  kube.SetHook([&](const std::string& method, const std::string& path) {
    seen.push_back(method + " " + path);
    return method == "DELETE" ? absl::PermissionDeniedError("no")
                              : absl::OkStatus();
  });
  ASSERT_TRUE(kube.Post(kRollouts, Rollout("web")).ok());
  EXPECT_TRUE(absl::IsPermissionDenied(kube.Delete(kItem).status()));
  EXPECT_TRUE(kube.Peek(kItem).ok());
  EXPECT_EQ(seen,
            (std::vector<std::string>{"POST " + kRollouts, "DELETE " + kItem}));
}

TEST(FakeKubeTest, SeedKeepsStatus) {
  FakeKube kube;
  auto seeded = kube.Seed(kRollouts, Rollout("web"));
  ASSERT_TRUE(seeded.ok()) << seeded.status();
  EXPECT_EQ((*kube.Peek(kItem))["status"]["phase"], "Progressing");
  EXPECT_EQ(kube.Calls(), 0);
}

}  // namespace
}  // namespace smartcanary::kube
