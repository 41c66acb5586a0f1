#include "controller/kube/kube_client.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "controller/kube/fake_kube.h"
#include "controller/kube/kube_config.h"
#include "controller/kube/resources.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"

// KubeClient against the real kube-apiserver, and FakeKube held to what the
// real server does.
namespace smartcanary::testing {
namespace {

using nlohmann::json;

kube::KubeConfig ClusterConfig() {
  auto config = kube::LoadKubeconfig(std::getenv("KUBECONFIG"));
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

// Records the pages List reads.
class PageCountingClient : public kube::KubeClient {
 public:
  using KubeClient::KubeClient;
  absl::StatusOr<json> Get(const std::string& path) const override {
    pages_.push_back(path);
    return KubeClient::Get(path);
  }
  const std::vector<std::string>& pages() const { return pages_; }

 private:
  mutable std::vector<std::string> pages_;
};

std::string ConfigMaps(const std::string& ns) {
  return absl::StrCat("/api/v1/namespaces/", ns, "/configmaps");
}

json ConfigMap(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}}},
          {"data", {{"k", "v"}}}};
}

TEST(KubeClientIntegrationTest, ListReadsEveryPage) {
  TestNamespace ns;
  for (int i = 0; i < 25; ++i) {
    auto created =
        Kube().Post(ConfigMaps(ns.name()), ConfigMap(absl::StrCat("cm-", i)));
    ASSERT_TRUE(created.ok()) << created.status();
  }
  kube::KubeClientOptions options;
  options.list_page_size = 7;
  PageCountingClient client(ClusterConfig(), options);
  auto list = client.List(ConfigMaps(ns.name()));
  ASSERT_TRUE(list.ok()) << list.status();
  int ours = 0;
  for (const json& item : list->items)
    ours += item["metadata"]["name"].get<std::string>().rfind("cm-", 0) == 0;
  EXPECT_EQ(ours, 25);
  EXPECT_FALSE(list->resource_version.empty());
  // 25 (and any the cluster adds) in pages of 7: at least four.
  ASSERT_GE(client.pages().size(), 4u);
  EXPECT_NE(client.pages()[0].find("limit=7"), std::string::npos);
  EXPECT_NE(client.pages()[1].find("continue="), std::string::npos);
}

TEST(KubeClientIntegrationTest, WritesAreOwnedByCanarydInManagedFields) {
  TestNamespace ns;
  const std::string item = ConfigMaps(ns.name()) + "/owned";
  ASSERT_TRUE(Kube().Post(ConfigMaps(ns.name()), ConfigMap("owned")).ok());
  auto patched = Kube().MergePatch(item, {{"data", {{"extra", "1"}}}});
  ASSERT_TRUE(patched.ok()) << patched.status();
  const json& managed = (*patched)["metadata"]["managedFields"];
  ASSERT_TRUE(managed.is_array()) << patched->dump();
  ASSERT_FALSE(managed.empty());
  for (const json& entry : managed) {
    EXPECT_EQ(entry["manager"], "canaryd") << entry.dump();
    EXPECT_EQ(entry["operation"], "Update") << entry.dump();
  }
}

// The real server's identity for whoever `client` authenticates as.
std::string WhoAmI(const kube::KubeClient& client) {
  auto review = client.Post("/apis/authentication.k8s.io/v1/selfsubjectreviews",
                            {{"apiVersion", "authentication.k8s.io/v1"},
                             {"kind", "SelfSubjectReview"}});
  if (!review.ok()) return review.status().ToString();
  return (*review)["status"]["userInfo"].value("username", "");
}

std::string ServiceAccountToken(const std::string& ns,
                                const std::string& name) {
  auto account =
      Kube().Post(absl::StrCat("/api/v1/namespaces/", ns, "/serviceaccounts"),
                  {{"apiVersion", "v1"},
                   {"kind", "ServiceAccount"},
                   {"metadata", {{"name", name}}}});
  EXPECT_TRUE(account.ok()) << account.status();
  auto token = Kube().Post(absl::StrCat("/api/v1/namespaces/", ns,
                                        "/serviceaccounts/", name, "/token"),
                           {{"apiVersion", "authentication.k8s.io/v1"},
                            {"kind", "TokenRequest"},
                            {"spec", {{"expirationSeconds", 600}}}});
  EXPECT_TRUE(token.ok()) << token.status();
  return token.ok() ? (*token)["status"].value("token", "") : "";
}

TEST(KubeClientIntegrationTest, ARotatedTokenFileIsPickedUp) {
  TestNamespace ns;
  const std::string alpha = ServiceAccountToken(ns.name(), "alpha");
  const std::string beta = ServiceAccountToken(ns.name(), "beta");
  ASSERT_FALSE(alpha.empty());
  ASSERT_FALSE(beta.empty());
  // A kubeconfig naming a token file, as a pod's projected token is.
  const kube::KubeConfig cluster = ClusterConfig();
  const std::string dir = std::getenv("TEST_TMPDIR");
  std::ofstream(dir + "/token") << alpha << "\n";
  std::ofstream(dir + "/kubeconfig")
      << "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
      << "    server: " << cluster.server << "\n"
      << "    certificate-authority-data: "
      << absl::Base64Escape(cluster.ca_pem)
      << "\nusers:\n- name: u\n  user:\n    tokenFile: token\n"
      << "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
      << "current-context: x\n";
  auto config = kube::LoadKubeconfig(dir + "/kubeconfig");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->token_file, dir + "/token");
  kube::KubeClient client(*config);
  const std::string prefix =
      absl::StrCat("system:serviceaccount:", ns.name(), ":");
  EXPECT_EQ(WhoAmI(client), prefix + "alpha");
  // The kubelet swaps a rotated token in by rename.
  std::ofstream(dir + "/token.next") << beta << "\n";
  ASSERT_EQ(
      std::rename((dir + "/token.next").c_str(), (dir + "/token").c_str()), 0);
  EXPECT_EQ(WhoAmI(client), prefix + "beta");
}

TEST(KubeClientIntegrationTest, WatchesGetBookmarks) {
  TestNamespace ns;
  TestNamespace elsewhere;
  auto listed = Kube().List(ConfigMaps(ns.name()));
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_TRUE(Kube().Post(ConfigMaps(ns.name()), ConfigMap("marker")).ok());
  std::vector<json> events;
  // No allowWatchBookmarks in the path: the client asks for them. The server
  // sends one shortly before timeoutSeconds (and about every minute), once
  // its cache has moved past what the watch has seen: a write elsewhere,
  // made once the watch is running, moves it.
  absl::Status watched = Kube().Watch(
      absl::StrCat(ConfigMaps(ns.name()), "?watch=1&timeoutSeconds=10",
                   "&resourceVersion=", listed->resource_version),
      [&](const json& event) {
        events.push_back(event);
        if (events.size() == 1) {
          EXPECT_TRUE(
              Kube()
                  .Post(ConfigMaps(elsewhere.name()), ConfigMap("mover"))
                  .ok());
        }
        return event.value("type", "") != "BOOKMARK";
      },
      nullptr);
  EXPECT_TRUE(watched.ok()) << watched;
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["type"], "ADDED");
  EXPECT_EQ(events[0]["object"]["metadata"]["name"], "marker");
  EXPECT_EQ(events[1]["type"], "BOOKMARK");
  EXPECT_FALSE(
      events[1]["object"]["metadata"].value("resourceVersion", "").empty());
}

// One step of the contract scenario: what a caller can observe.
std::string Outcome(const absl::StatusOr<json>& result) {
  if (!result.ok()) return absl::StatusCodeToString(result.status().code());
  const json& metadata = result->value("metadata", json::object());
  return absl::StrCat(
      "OK generation=", metadata.value("generation", 0),
      " deleting=", metadata.contains("deletionTimestamp"),
      " spec=", result->value("spec", json::object()).dump(),
      " status=", result->value("status", json::object()).dump());
}

json Rollout() {
  return {
      {"apiVersion", kube::kCanaryRolloutApiVersion},
      {"kind", "CanaryRollout"},
      {"metadata", {{"name", "web"}}},
      {"spec",
       {{"trafficRouting", {{"istio", {{"virtualService", {{"name", "vs"}}}}}}},
        {"steps", {{{"setWeight", 10}}}}}},
      {"status", {{"phase", "Progressing"}}}};
}

std::string VersionOf(const absl::StatusOr<json>& object) {
  return object.ok() ? (*object)["metadata"].value("resourceVersion", "") : "";
}

// Writes, conflicts, generations, the status subresource and finalizers,
// step by step; returns what each step showed. Run against the real server
// and FakeKube, the two must agree.
std::vector<std::string> Scenario(const kube::KubeApi& api,
                                  const std::string& ns) {
  const std::string collection = kube::kCanaryRollouts.Collection(ns);
  const std::string item = kube::kCanaryRollouts.Item(ns, "web");
  std::vector<std::string> seen;
  auto step = [&](const std::string& name, const absl::StatusOr<json>& result) {
    seen.push_back(name + ": " + Outcome(result));
  };
  // A step whose result later steps use.
  auto kept = [&](const std::string& name, absl::StatusOr<json> result) {
    step(name, result);
    return result;
  };
  auto created = kept("create", api.Post(collection, Rollout()));
  step("create again", api.Post(collection, Rollout()));
  auto labelled =
      kept("label",
           api.MergePatch(item, {{"metadata", {{"labels", {{"tier", "a"}}}}}}));
  seen.push_back(absl::StrCat("label bumps version: ",
                              VersionOf(labelled) != VersionOf(created)));
  auto same =
      kept("same label",
           api.MergePatch(item, {{"metadata", {{"labels", {{"tier", "a"}}}}}}));
  seen.push_back(absl::StrCat("no-op keeps version: ",
                              VersionOf(same) == VersionOf(labelled)));
  auto respecced = kept(
      "spec",
      api.MergePatch(item, {{"spec", {{"steps", {{{"setWeight", 20}}}}}}}));
  const std::string current = VersionOf(respecced);
  auto status_patch = [&](const std::string& version, const char* phase) {
    return api.JsonPatch(item + "/status",
                         json::array({{{"op", "replace"},
                                       {"path", "/metadata/resourceVersion"},
                                       {"value", version}},
                                      {{"op", "add"},
                                       {"path", "/status"},
                                       {"value", {{"phase", phase}}}}}));
  };
  auto healthy = kept("status", status_patch(current, "Healthy"));
  step("status stale", status_patch(current, "Paused"));
  step("failed test op",
       api.JsonPatch(item, json::array({{{"op", "test"},
                                         {"path", "/spec/steps/0/setWeight"},
                                         {"value", 99}}})));
  json stale = *created;
  step("put stale", api.Put(item, stale));
  json unversioned = *healthy;
  unversioned["metadata"].erase("resourceVersion");
  step("put unversioned", api.Put(item, unversioned));
  json main_write = *healthy;
  main_write["status"] = {{"phase", "Degraded"}};
  main_write["spec"]["steps"] = {{{"setWeight", 30}}};
  auto written = kept("put main", api.Put(item, main_write));
  json status_write = *written;
  status_write["status"] = {{"phase", "Paused"}};
  status_write["spec"]["steps"] = {{{"setWeight", 40}}};
  step("put status", api.Put(item + "/status", status_write));
  step("finalizer",
       api.MergePatch(
           item, {{"metadata", {{"finalizers", {"smartcanary.dev/test"}}}}}));
  step("delete", api.Delete(item));
  step("get deleting", api.Get(item));
  step(
      "add finalizer while deleting",
      api.MergePatch(
          item, {{"metadata",
                  {{"finalizers", {"smartcanary.dev/test", "other.dev/x"}}}}}));
  step("release",
       api.JsonPatch(item, json::array({{{"op", "remove"},
                                         {"path", "/metadata/finalizers"}}})));
  step("get gone", api.Get(item));
  step("delete gone", api.Delete(item));
  return seen;
}

// The event types a watch from `from` replays until the object is gone.
std::vector<std::string> Replay(const kube::KubeApi& api, const std::string& ns,
                                const std::string& from) {
  std::vector<std::string> types;
  absl::Status watched = api.Watch(
      absl::StrCat(kube::kCanaryRollouts.Collection(ns),
                   "?watch=1&timeoutSeconds=60&resourceVersion=", from),
      [&](const json& event) {
        const std::string type = event.value("type", "");
        if (type != "BOOKMARK") types.push_back(type);
        return type != "DELETED";
      },
      nullptr);
  EXPECT_TRUE(watched.ok()) << watched;
  return types;
}

TEST(KubeClientIntegrationTest, FakeKubeBehavesAsTheApiServerDoes) {
  TestNamespace ns;
  auto start = Kube().List(kube::kCanaryRollouts.Collection(ns.name()));
  ASSERT_TRUE(start.ok()) << start.status();
  const std::vector<std::string> real = Scenario(Kube(), ns.name());
  kube::FakeKube fake;
  const std::string fake_start = fake.ResourceVersion();
  const std::vector<std::string> imitation = Scenario(fake, ns.name());
  ASSERT_EQ(real.size(), imitation.size());
  for (size_t i = 0; i < real.size(); ++i)
    EXPECT_EQ(real[i], imitation[i]) << "step " << i;
  EXPECT_EQ(Replay(Kube(), ns.name(), start->resource_version),
            Replay(fake, ns.name(), fake_start));
}

}  // namespace
}  // namespace smartcanary::testing
