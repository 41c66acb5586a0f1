// The watch-fed read cache over the in-memory API server: which reads it
// answers from memory (counted as the GETs that reach FakeKube), how writes
// and watch events keep it current, how a stale entry is found out, and
// that the Controller feeds it without letting a failing template watch
// hold readiness.
#include "controller/kube/cached_kube_api.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "controller/controller.h"
#include "controller/istio/istio_router.h"
#include "controller/kube/fake_kube.h"
#include "controller/kube/resources.h"
#include "controller/reconciler.h"
#include "tests/unit/rollout_specs.h"

namespace smartcanary::kube {
namespace {

using nlohmann::json;

constexpr char kNs[] = "team-a";

const std::vector<Resource> kCachedKinds = {
    kCanaryRollouts, kAnalysisTemplates, kClusterAnalysisTemplates,
    kVirtualServices, kDestinationRules};

json VirtualService(const std::string& name) {
  return {{"metadata", {{"name", name}, {"namespace", kNs}}},
          {"spec", {{"hosts", {"rpc"}}}}};
}

std::string VersionOf(const json& object) {
  return object["metadata"].value("resourceVersion", "");
}

class CachedKubeApiTest : public ::testing::Test {
 protected:
  CachedKubeApiTest() {
    EXPECT_TRUE(
        kube_.Seed(kVirtualServices.Collection(kNs), VirtualService("vs"))
            .ok());
  }
  // What the watch's list would deliver now.
  void Sync(const Resource& kind) {
    auto list = kube_.Get(kind.Collection(kind.cluster_scoped ? "" : kNs));
    ASSERT_TRUE(list.ok()) << list.status();
    cache_.Replace(kind, (*list)["items"], VersionOf(*list));
  }
  int ServerGets() const { return kube_.Calls("GET"); }

  FakeKube kube_;
  CachedKubeApi cache_{kube_, kCachedKinds, kNs};
  const std::string vs_ = kVirtualServices.Item(kNs, "vs");
};

TEST_F(CachedKubeApiTest, AfterTheListReadsAreServedFromMemory) {
  ASSERT_TRUE(cache_.Get(vs_).ok());
  EXPECT_EQ(ServerGets(), 1) << "not listed yet: the server answers";
  Sync(kVirtualServices);
  const int listed = ServerGets();
  for (int i = 0; i < 3; ++i) {
    auto object = cache_.Get(vs_);
    ASSERT_TRUE(object.ok()) << object.status();
    EXPECT_EQ(*object, *kube_.Peek(vs_));
  }
  EXPECT_EQ(ServerGets(), listed);
  EXPECT_TRUE(cache_.Synced(kVirtualServices));
  EXPECT_FALSE(cache_.Synced(kDestinationRules));
}

TEST_F(CachedKubeApiTest, ManagedFieldsAreNotKept) {
  Sync(kVirtualServices);
  json object = *kube_.Peek(vs_);
  object["metadata"]["resourceVersion"] = "999999";
  object["metadata"]["managedFields"] = json::array(
      {{{"manager", "kubectl"}, {"fieldsV1", {{"f:spec", json::object()}}}}});
  cache_.Apply(kVirtualServices, "MODIFIED", object);
  auto read = cache_.Get(vs_);
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->at("metadata").contains("managedFields"));
  object["metadata"].erase("managedFields");
  EXPECT_EQ(*read, object);
}

TEST_F(CachedKubeApiTest, AWriteStoresTheServersAnswer) {
  Sync(kVirtualServices);
  auto patched = cache_.JsonPatch(vs_, json::array({{{"op", "add"},
                                                     {"path", "/spec/hosts/-"},
                                                     {"value", "rpc.other"}}}));
  ASSERT_TRUE(patched.ok()) << patched.status();
  const int before = ServerGets();
  auto read = cache_.Get(vs_);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, *patched);
  EXPECT_EQ(*read, *kube_.Peek(vs_));
  EXPECT_EQ(ServerGets(), before);
  // A create through the collection is stored too.
  auto created =
      cache_.Post(kVirtualServices.Collection(kNs), VirtualService("new"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(*cache_.Get(kVirtualServices.Item(kNs, "new")), *created);
  EXPECT_EQ(ServerGets(), before);
}

TEST_F(CachedKubeApiTest, AnOlderVersionNeverReplacesANewerOne) {
  Sync(kVirtualServices);
  const json old = *kube_.Peek(vs_);
  auto patched = cache_.MergePatch(vs_, {{"spec", {{"hosts", {"b"}}}}});
  ASSERT_TRUE(patched.ok());
  // The watch's event for the older version arrives late.
  cache_.Apply(kVirtualServices, "MODIFIED", old);
  EXPECT_EQ(*cache_.Get(vs_), *patched);
  // So does a list taken before the write: it keeps the newer object.
  json items = json::array({old});
  cache_.Replace(kVirtualServices, items, VersionOf(old));
  EXPECT_EQ(*cache_.Get(vs_), *patched);
  // Versions that are not numbers cannot be ordered: the later arrival wins.
  json opaque = old;
  opaque["metadata"]["resourceVersion"] = "opaque-1";
  cache_.Apply(kVirtualServices, "MODIFIED", opaque);
  EXPECT_EQ(*cache_.Get(vs_), opaque);
  EXPECT_TRUE(OlderVersion("9", "10")) << "numerically, not as text";
  EXPECT_FALSE(OlderVersion("10", "9"));
}

TEST_F(CachedKubeApiTest, AConflictDropsTheEntryAndTheNextReadAsksTheServer) {
  Sync(kVirtualServices);
  const json stale = *cache_.Get(vs_);
  // Someone else writes; the watch has not delivered it yet.
  auto theirs =
      kube_.MergePatch(vs_, {{"metadata", {{"labels", {{"a", "b"}}}}}});
  ASSERT_TRUE(theirs.ok());
  EXPECT_EQ(*cache_.Get(vs_), stale);
  auto guarded = cache_.JsonPatch(
      vs_, json::array({{{"op", "replace"},
                         {"path", "/metadata/resourceVersion"},
                         {"value", VersionOf(stale)}},
                        {{"op", "add"}, {"path", "/spec/x"}, {"value", 1}}}));
  EXPECT_TRUE(absl::IsAborted(guarded.status())) << guarded.status();
  const int before = ServerGets();
  EXPECT_EQ(*cache_.Get(vs_), *theirs);
  EXPECT_EQ(ServerGets(), before + 1) << "the read after a conflict";
  EXPECT_EQ(*cache_.Get(vs_), *theirs);
  EXPECT_EQ(ServerGets(), before + 1) << "and it refreshed the entry";

  // A failed JSON-Patch `test` (422) is found out the same way.
  ASSERT_TRUE(
      kube_.MergePatch(vs_, {{"metadata", {{"labels", {{"a", "c"}}}}}}).ok());
  auto tested = cache_.JsonPatch(
      vs_,
      json::array(
          {{{"op", "test"}, {"path", "/metadata/labels/a"}, {"value", "b"}},
           {{"op", "add"}, {"path", "/spec/x"}, {"value", 1}}}));
  EXPECT_TRUE(absl::IsInvalidArgument(tested.status())) << tested.status();
  EXPECT_EQ((*cache_.Get(vs_))["metadata"]["labels"]["a"], "c");
  EXPECT_EQ(ServerGets(), before + 2);
}

TEST_F(CachedKubeApiTest, ADeletedObjectIsForgottenAndNotBroughtBack) {
  Sync(kVirtualServices);
  const json old = *kube_.Peek(vs_);
  ASSERT_TRUE(kube_.Delete(vs_).ok());
  json gone = old;
  gone["metadata"]["resourceVersion"] = kube_.ResourceVersion();
  cache_.Apply(kVirtualServices, "DELETED", gone);
  // An answer read before the delete, arriving after it, is refused.
  cache_.Apply(kVirtualServices, "MODIFIED", old);
  const int before = ServerGets();
  EXPECT_TRUE(absl::IsNotFound(cache_.Get(vs_).status()));
  EXPECT_TRUE(absl::IsNotFound(cache_.Get(vs_).status()));
  EXPECT_EQ(ServerGets(), before + 2) << "a 404 is not kept";
  EXPECT_EQ(cache_.Size(), 0u);
}

TEST_F(CachedKubeApiTest, EverythingElseGoesToTheServer) {
  Sync(kVirtualServices);
  ASSERT_TRUE(kube_
                  .Seed(kServices.Collection(kNs),
                        {{"metadata", {{"name", "svc"}, {"namespace", kNs}}},
                         {"spec", json::object()}})
                  .ok());
  ASSERT_TRUE(
      kube_
          .Seed(kVirtualServices.Collection("team-b"),
                {{"metadata", {{"name", "vs"}, {"namespace", "team-b"}}},
                 {"spec", json::object()}})
          .ok());
  const std::vector<std::string> paths = {
      kServices.Item(kNs, "svc"),             // a kind not cached
      kVirtualServices.Collection(kNs),       // a collection
      vs_ + "?resourceVersion=0",             // a query
      vs_ + "/status",                        // a subresource
      kVirtualServices.Item("team-b", "vs"),  // a namespace not watched
      kDestinationRules.Item(kNs, "dr"),      // a kind not listed yet
  };
  for (const std::string& path : paths) {
    const int before = ServerGets();
    (void)cache_.Get(path);
    EXPECT_EQ(ServerGets(), before + 1) << path;
  }
  // A watch that failed: its kind goes to the server until listed again.
  cache_.Unsync(kVirtualServices);
  const int before = ServerGets();
  ASSERT_TRUE(cache_.Get(vs_).ok());
  EXPECT_EQ(ServerGets(), before + 1);
}

TEST_F(CachedKubeApiTest, AListForgetsWhatItNoLongerHolds) {
  Sync(kVirtualServices);
  ASSERT_TRUE(kube_.Delete(vs_).ok());  // the DELETED event was missed
  Sync(kVirtualServices);
  EXPECT_EQ(cache_.Size(), 0u);
  EXPECT_TRUE(absl::IsNotFound(cache_.Get(vs_).status()));
}

TEST_F(CachedKubeApiTest, ClusterScopedTemplatesAreCachedWhateverTheNamespace) {
  ASSERT_TRUE(kube_
                  .Seed(kClusterAnalysisTemplates.Collection(""),
                        {{"metadata", {{"name", "success"}}},
                         {"spec", {{"metrics", json::array()}}}})
                  .ok());
  Sync(kClusterAnalysisTemplates);
  const int before = ServerGets();
  ASSERT_TRUE(cache_.Get(kClusterAnalysisTemplates.Item("", "success")).ok());
  EXPECT_EQ(ServerGets(), before);
}

// The reconcile's status write carries the resourceVersion it read: read
// from a stale cache it conflicts (the Controller then requeues at once),
// the entry is dropped, and the next pass reads the server and succeeds.
TEST_F(CachedKubeApiTest, AStaleRolloutConflictsAndTheRetryReadsTheServer) {
  ASSERT_TRUE(kube_
                  .Seed(kDestinationRules.Collection(kNs),
                        SubsetDestinationRuleJson(kNs))
                  .ok());
  ASSERT_TRUE(kube_.Delete(vs_).ok());
  ASSERT_TRUE(
      kube_
          .Seed(kVirtualServices.Collection(kNs), SubsetVirtualServiceJson(kNs))
          .ok());
  Step twenty;
  twenty.weight = 20;
  Step pause;
  pause.kind = Step::Kind::kPause;
  pause.pause_duration = absl::Seconds(10);
  Step fifty;
  fifty.weight = 50;
  Step hold;
  hold.kind = Step::Kind::kPause;
  ASSERT_TRUE(
      kube_
          .Post(kCanaryRollouts.Collection(kNs),
                NewCanaryRolloutJson(
                    kNs, "web", SubsetRouted({twenty, pause, fifty, hold})))
          .ok());
  for (const Resource& kind : kCachedKinds) Sync(kind);
  Reconciler reconciler(
      cache_,
      {[this](const CanaryRollout& r) {
         return std::make_unique<istio::IstioRouter>(cache_, r.namespace_name,
                                                     r.spec.traffic_routing);
       },
       nullptr, nullptr, nullptr, [](const std::string&) {}, nullptr, nullptr});
  const absl::Time start = absl::Now();
  for (int i = 0; i < 5; ++i) {
    auto requeue = reconciler.Reconcile(kNs, "web", start);
    ASSERT_TRUE(requeue.ok()) << requeue.status();
    if (*requeue != absl::ZeroDuration()) break;
  }
  const std::string path = kCanaryRollouts.Item(kNs, "web");
  ASSERT_EQ((*kube_.Peek(path))["status"]["phase"], "Paused");
  // kubectl labels the rollout; the watch has not delivered it yet.
  ASSERT_TRUE(
      kube_.MergePatch(path, {{"metadata", {{"labels", {{"team", "a"}}}}}})
          .ok());
  const absl::Time later = start + absl::Minutes(1);  // the pause is over
  auto stale = reconciler.Reconcile(kNs, "web", later);
  EXPECT_TRUE(absl::IsAborted(stale.status())) << stale.status();
  const int before = ServerGets();
  for (int i = 0; i < 5; ++i) {
    auto requeue = reconciler.Reconcile(kNs, "web", later);
    ASSERT_TRUE(requeue.ok()) << requeue.status();
    if (*requeue != absl::ZeroDuration()) break;
  }
  EXPECT_EQ(ServerGets(), before + 1) << "one read of the server, then memory";
  const json rollout = *kube_.Peek(path);
  EXPECT_EQ(rollout["status"]["canaryWeight"], 50);
  EXPECT_EQ(rollout["metadata"]["labels"]["team"], "a");
}

// A template watch the API server forbids leaves templates uncached and
// holds neither /readyz nor /healthz; the other kinds are cached.
TEST(ControllerCacheTest, AForbiddenTemplateWatchHoldsNothing) {
  FakeKube kube;
  kube.SetHook([](const std::string&, const std::string& path) {
    if (absl::StrContains(path, "analysistemplates"))
      return absl::PermissionDeniedError("forbidden");
    return absl::OkStatus();
  });
  CachedKubeApi cache(kube, kCachedKinds, kNs);
  Reconciler reconciler(
      cache,
      {[&cache](const CanaryRollout& r) {
         return std::make_unique<istio::IstioRouter>(cache, r.namespace_name,
                                                     r.spec.traffic_routing);
       },
       nullptr, nullptr, nullptr, [](const std::string&) {}, nullptr, nullptr});
  Metrics metrics;
  Controller controller(kube, reconciler, kNs, metrics, 1, &cache);
  controller.Start();
  const absl::Time give_up = absl::Now() + absl::Minutes(1);
  while (!controller.Synced() && absl::Now() < give_up)
    absl::SleepFor(absl::Milliseconds(20));
  EXPECT_TRUE(controller.Synced());
  EXPECT_TRUE(controller.Healthy(absl::Now()).ok());
  EXPECT_TRUE(cache.Synced(kCanaryRollouts));
  EXPECT_TRUE(cache.Synced(kVirtualServices));
  EXPECT_TRUE(cache.Synced(kDestinationRules));
  EXPECT_FALSE(cache.Synced(kAnalysisTemplates));
  EXPECT_FALSE(cache.Synced(kClusterAnalysisTemplates));
  EXPECT_TRUE(absl::IsPermissionDenied(
      cache.Get(kAnalysisTemplates.Item(kNs, "success")).status()))
      << "passed through to the server";
  controller.Stop();
}

}  // namespace
}  // namespace smartcanary::kube
