#include "controller/kube/kube_client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/unit/scripted_http_server.h"

// KubeClient against a scripted local server: what goes on the wire, and
// how answers become results. The real API server's side is in
// tests/integration/kube_client_test.cc.
namespace smartcanary::kube {
namespace {

using nlohmann::json;
using testing::Chunk;
using testing::ChunkedHead;
using testing::HttpReply;
using testing::InTurn;
using testing::Reply;
using testing::ScriptedHttpServer;
using testing::SeenRequest;

const char kPath[] =
    "/apis/smartcanary.dev/v1alpha1/namespaces/ns/canaryrollouts";

KubeClientOptions FastOptions() {
  KubeClientOptions options;
  options.retry.initial_backoff = absl::Milliseconds(5);
  options.retry.jitter = 0;
  options.list_page_size = 2;
  return options;
}

KubeClient ClientFor(const ScriptedHttpServer& server,
                     KubeClientOptions options = FastOptions(),
                     const std::string& token_file = "") {
  KubeConfig config;
  config.server = server.url();
  config.token = "static-token";
  config.token_file = token_file;
  return KubeClient(config, options);
}

std::string TempFile(const std::string& name, const std::string& content) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path =
      absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  std::ofstream(path, std::ios::trunc) << content;
  return path;
}

TEST(KubeClientTest, WritesNameTheFieldManagerAndEveryCallTheUserAgent) {
  ScriptedHttpServer server(
      [](const SeenRequest&) { return HttpReply(200, "{}"); });
  KubeClient client = ClientFor(server);
  const std::string item = std::string(kPath) + "/web";
  ASSERT_TRUE(client.Get(item).ok());
  ASSERT_TRUE(client.Post(kPath, json::object()).ok());
  ASSERT_TRUE(client.Put(item, json::object()).ok());
  ASSERT_TRUE(client.JsonPatch(item + "/status", json::array()).ok());
  ASSERT_TRUE(client.MergePatch(item, json::object()).ok());
  ASSERT_TRUE(client.Delete(item).ok());
  const std::vector<SeenRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 6u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"GET", item},
      {"POST", std::string(kPath) + "?fieldManager=canaryd"},
      {"PUT", item + "?fieldManager=canaryd"},
      {"PATCH", item + "/status?fieldManager=canaryd"},
      {"PATCH", item + "?fieldManager=canaryd"},
      {"DELETE", item}};
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].method, expected[i].first);
    EXPECT_EQ(seen[i].target, expected[i].second);
    EXPECT_TRUE(absl::StartsWith(seen[i].headers.at("user-agent"), "canaryd/"));
    EXPECT_EQ(seen[i].headers.at("authorization"), "Bearer static-token");
  }
  EXPECT_EQ(seen[3].headers.at("content-type"), "application/json-patch+json");
  EXPECT_EQ(seen[4].headers.at("content-type"), "application/merge-patch+json");
}

// Pages of two over five items; the continue token is the next index.
Reply Page(const SeenRequest& request) {
  EXPECT_NE(request.target.find("limit=2"), std::string::npos);
  int start = 0;
  if (size_t at = request.target.find("continue="); at != std::string::npos)
    start = std::stoi(request.target.substr(at + 9));
  json page = {{"kind", "CanaryRolloutList"},
               {"metadata", {{"resourceVersion", "77"}}},
               {"items", json::array()}};
  for (int i = start; i < std::min(start + 2, 5); ++i)
    page["items"].push_back({{"metadata", {{"name", absl::StrCat("r", i)}}}});
  if (start + 2 < 5) page["metadata"]["continue"] = std::to_string(start + 2);
  return HttpReply(200, page.dump());
}

std::vector<std::string> Names(const ListResult& list) {
  std::vector<std::string> names;
  for (const json& item : list.items) names.push_back(item["metadata"]["name"]);
  return names;
}

TEST(KubeClientTest, ListFollowsContinueTokens) {
  ScriptedHttpServer server(Page);
  KubeClient client = ClientFor(server);
  auto list = client.List(kPath);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(Names(*list),
            (std::vector<std::string>{"r0", "r1", "r2", "r3", "r4"}));
  EXPECT_EQ(list->resource_version, "77");
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(KubeClientTest, ListStartsOverWhenAContinueTokenExpires) {
  std::atomic<int> expired{0};
  ScriptedHttpServer server([&](const SeenRequest& request) {
    if (request.target.find("continue=4") != std::string::npos &&
        expired++ == 0) {
      return HttpReply(410, json{{"kind", "Status"},
                                 {"reason", "Expired"},
                                 {"message", "continue token expired"},
                                 {"code", 410}}
                                .dump());
    }
    return Page(request);
  });
  KubeClient client = ClientFor(server);
  auto list = client.List(kPath);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(Names(*list),
            (std::vector<std::string>{"r0", "r1", "r2", "r3", "r4"}));
  EXPECT_EQ(server.requests().size(),
            6u);  // 3 pages, expired, 3 pages... less one
}

TEST(KubeClientTest, ErrorsMapToStatusCodesWithTheServersMessage) {
  ScriptedHttpServer server([](const SeenRequest& request) {
    if (request.method == "POST") {
      return HttpReply(
          409,
          json{{"reason", "AlreadyExists"}, {"message", "it is there"}}.dump());
    }
    if (request.method == "PUT")
      return HttpReply(409, json{{"reason", "Conflict"}}.dump());
    if (request.method == "PATCH")
      return HttpReply(422, json{{"message", "test failed"}}.dump());
    return HttpReply(404, json{{"message", "x not found"}}.dump());
  });
  KubeClient client = ClientFor(server);
  auto missing = client.Get("/api/v1/namespaces/ns/services/x");
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_EQ(missing.status().message(),
            "GET /api/v1/namespaces/ns/services/x: x not found");
  EXPECT_TRUE(
      absl::IsAlreadyExists(client.Post(kPath, json::object()).status()));
  EXPECT_TRUE(absl::IsAborted(client.Put(kPath, json::object()).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(client.JsonPatch(kPath, json::array()).status()));
}

TEST(KubeClientTest, TooManyRequestsIsRetriedAfterTheServersDelay) {
  ScriptedHttpServer server(InTurn({HttpReply(429, "{}", {"Retry-After: 1"}),
                                    HttpReply(201, "{\"created\":true}")}));
  KubeClient client = ClientFor(server);
  auto created = client.Post(kPath, json::object());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ((*created)["created"], true);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(KubeClientTest, ACreateIsNotRepeatedAfterAServerError) {
  ScriptedHttpServer server(
      InTurn({HttpReply(500, "{\"message\":\"etcd timeout\"}")}));
  KubeClient client = ClientFor(server);
  EXPECT_TRUE(absl::IsUnavailable(client.Post(kPath, json::object()).status()));
  EXPECT_EQ(server.requests().size(), 1u);
  // A read is safe to repeat.
  EXPECT_TRUE(absl::IsUnavailable(client.Get(kPath).status()));
  EXPECT_EQ(server.requests().size(), 1u + FastOptions().retry.max_attempts);
}

TEST(KubeClientTest, RetriesStayWithinTheCallsTimeout) {
  // A writer fencing by time (leader election) counts on this.
  ScriptedHttpServer server(
      InTurn({HttpReply(503, "{}", {"Retry-After: 3600"})}));
  KubeClientOptions options = FastOptions();
  options.timeout = absl::Seconds(2);
  KubeClient client = ClientFor(server, options);
  EXPECT_TRUE(absl::IsUnavailable(client.Get(kPath).status()));
  EXPECT_EQ(server.requests().size(), 1u);  // no hour-long wait
}

TEST(KubeClientTest, AnAnswerOverTheCapIsResourceExhausted) {
  ScriptedHttpServer server([](const SeenRequest&) {
    return HttpReply(200, json{{"data", std::string(4096, 'x')}}.dump());
  });
  KubeClientOptions options = FastOptions();
  options.max_response_bytes = 1024;
  KubeClient client = ClientFor(server, options);
  auto got = client.Get(kPath);
  EXPECT_TRUE(absl::IsResourceExhausted(got.status())) << got.status();
  EXPECT_NE(got.status().message().find("1 KiB cap"), std::string::npos);
}

TEST(KubeClientTest, TheTokenFileIsReadAgainWhenItChanges) {
  ScriptedHttpServer server(
      [](const SeenRequest&) { return HttpReply(200, "{}"); });
  const std::string file = TempFile("rotating-token", "first-token\n");
  KubeClient client = ClientFor(server, FastOptions(), file);
  ASSERT_TRUE(client.Get(kPath).ok());
  // A projected token rotates by an atomic rename.
  const std::string next =
      TempFile("rotating-token.next", "second-token-longer\n");
  ASSERT_EQ(std::rename(next.c_str(), file.c_str()), 0);
  ASSERT_TRUE(client.Get(kPath).ok());
  const std::vector<SeenRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].headers.at("authorization"), "Bearer first-token");
  EXPECT_EQ(seen[1].headers.at("authorization"), "Bearer second-token-longer");
}

TEST(KubeClientTest, AnUnauthorizedAnswerRereadsTheTokenAndTriesOnce) {
  ScriptedHttpServer server([](const SeenRequest& request) {
    return request.headers.at("authorization") == "Bearer token-B"
               ? HttpReply(200, "{}")
               : HttpReply(401, "{\"message\":\"Unauthorized\"}");
  });
  const std::string file = TempFile("token-401", "token-A");
  struct stat before;
  ASSERT_EQ(stat(file.c_str(), &before), 0);
  KubeClient client = ClientFor(server, FastOptions(), file);
  EXPECT_TRUE(absl::IsUnauthenticated(client.Get(kPath).status()));
  // Rewritten in place, same size and mtime: only the 401 can tell.
  std::ofstream(file, std::ios::in | std::ios::out) << "token-B";
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
  ASSERT_TRUE(client.Get(kPath).ok());
  const std::vector<SeenRequest> seen = server.requests();
  // The first 401 found the same token in the file: no second try.
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].headers.at("authorization"), "Bearer token-A");
  EXPECT_EQ(seen[2].headers.at("authorization"), "Bearer token-B");
}

TEST(KubeClientTest, WatchAsksForBookmarksAndDeliversEvents) {
  ScriptedHttpServer server([](const SeenRequest&) {
    return Reply{ChunkedHead() + Chunk("{\"type\":\"ADDED\",\"object\":{}}\n") +
                     Chunk("{\"type\":\"BOOKMARK\",") +
                     Chunk("\"object\":{}}\n") + "0\r\n\r\n",
                 false};
  });
  KubeClient client = ClientFor(server);
  std::vector<std::string> types;
  absl::Status watched = client.Watch(
      std::string(kPath) + "?watch=1&resourceVersion=5",
      [&](const json& event) {
        types.push_back(event["type"]);
        return true;
      },
      nullptr);
  EXPECT_TRUE(watched.ok()) << watched;
  EXPECT_EQ(types, (std::vector<std::string>{"ADDED", "BOOKMARK"}));
  EXPECT_EQ(server.requests()[0].target,
            std::string(kPath) +
                "?watch=1&resourceVersion=5&allowWatchBookmarks=true");
}

TEST(KubeClientTest, ASilentWatchIsTakenAsDead) {
  ScriptedHttpServer server([](const SeenRequest&) {
    return Reply{ChunkedHead() + Chunk("{\"type\":\"ADDED\",\"object\":{}}\n"),
                 true};
  });
  KubeClientOptions options = FastOptions();
  options.watch_stall_timeout = absl::Seconds(1);
  KubeClient client = ClientFor(server, options);
  int events = 0;
  absl::Status watched = client.Watch(
      std::string(kPath) + "?watch=1",
      [&](const json&) { return ++events > 0; }, nullptr);
  EXPECT_TRUE(absl::IsUnavailable(watched)) << watched;
  EXPECT_NE(watched.message().find("no data for 1s"), std::string::npos)
      << watched;
  EXPECT_EQ(events, 1);
}

TEST(KubeClientTest, AnOversizedWatchEventEndsTheWatch) {
  ScriptedHttpServer server([](const SeenRequest&) {
    return Reply{ChunkedHead() + Chunk(std::string(8192, 'x')), true};
  });
  KubeClientOptions options = FastOptions();
  options.max_response_bytes = 4096;
  KubeClient client = ClientFor(server, options);
  absl::Status watched = client.Watch(
      std::string(kPath) + "?watch=1", [](const json&) { return true; },
      nullptr);
  EXPECT_TRUE(absl::IsResourceExhausted(watched)) << watched;
}

TEST(KubeClientTest, AWatchErrorAnswerMapsLikeAnyOther) {
  ScriptedHttpServer server([](const SeenRequest&) {
    return HttpReply(410, json{{"message", "too old resource version"}}.dump());
  });
  KubeClient client = ClientFor(server);
  absl::Status watched = client.Watch(
      std::string(kPath) + "?watch=1&resourceVersion=1",
      [](const json&) { return true; }, nullptr);
  EXPECT_TRUE(absl::IsOutOfRange(watched)) << watched;
}

}  // namespace
}  // namespace smartcanary::kube
