#include "common/http_transport.h"

#include <atomic>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/scripted_http_server.h"

namespace smartcanary {
namespace {

using testing::Chunk;
using testing::ChunkedHead;
using testing::HttpReply;
using testing::InTurn;
using testing::Reply;
using testing::ScriptedHttpServer;
using testing::SeenRequest;

// Records the waits instead of waiting.
struct RecordingClock {
  absl::Time now = absl::UnixEpoch();
  std::vector<absl::Duration> sleeps;
  RetryClock Clock() {
    return {[this] { return now; },
            [this](absl::Duration d) {
              sleeps.push_back(d);
              now += d;
              return true;
            },
            [] { return 0.0; }};
  }
};

RetryPolicy FastPolicy() {
  RetryPolicy policy;
  policy.max_attempts = 4;
  policy.initial_backoff = absl::Milliseconds(10);
  policy.jitter = 0;
  return policy;
}

HttpRequest Get(const std::string& url) {
  HttpRequest request;
  request.url = url;
  request.idempotent = true;
  return request;
}

TEST(HttpTransportTest, SendsUserAgentHeadersAndBody) {
  ScriptedHttpServer server(
      [](const SeenRequest&) { return HttpReply(201, "{\"ok\":true}"); });
  HttpTransport transport({{}, UserAgent("canaryd"), absl::Seconds(10)});
  HttpRequest request;
  request.method = "PUT";
  request.url = server.url() + "/things/a?x=1";
  request.headers = {"Content-Type: application/json"};
  request.body = std::string(5000, 'b');  // past curl's 100-continue size
  auto response = transport.Do(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, "{\"ok\":true}");
  const std::vector<SeenRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "PUT");
  EXPECT_EQ(seen[0].target, "/things/a?x=1");
  EXPECT_EQ(seen[0].headers.at("user-agent"),
            std::string("canaryd/") + kSmartCanaryVersion);
  EXPECT_EQ(seen[0].headers.at("content-type"), "application/json");
  EXPECT_EQ(seen[0].headers.count("expect"), 0u);
  EXPECT_EQ(seen[0].body, request.body);
}

TEST(HttpTransportTest, AnAnswerOverTheCapIsAnErrorNamingTheCap) {
  ScriptedHttpServer server([](const SeenRequest&) {
    return HttpReply(200, std::string(1 << 20, 'x'));
  });
  HttpTransport transport({});
  HttpRequest request = Get(server.url() + "/big");
  request.max_response_bytes = 64 << 10;
  auto response = transport.Do(request);
  ASSERT_TRUE(absl::IsResourceExhausted(response.status()))
      << response.status();
  EXPECT_NE(response.status().message().find("64 KiB cap"), std::string::npos)
      << response.status();
}

TEST(HttpTransportTest, AChunkedAnswerWithoutLengthIsCappedToo) {
  ScriptedHttpServer server([](const SeenRequest&) {
    std::string raw = ChunkedHead();
    for (int i = 0; i < 64; ++i) raw += Chunk(std::string(4096, 'y'));
    return Reply{raw + "0\r\n\r\n", false};
  });
  HttpTransport transport({});
  HttpRequest request = Get(server.url() + "/stream");
  request.max_response_bytes = 100000;
  auto response = transport.Do(request);
  ASSERT_TRUE(absl::IsResourceExhausted(response.status()))
      << response.status();
  EXPECT_NE(response.status().message().find("100000 bytes cap"),
            std::string::npos)
      << response.status();
}

TEST(HttpTransportTest, RetryAfterIsHonouredOn429) {
  ScriptedHttpServer server(InTurn(
      {HttpReply(429, "slow down", {"Retry-After: 3"}), HttpReply(200, "{}")}));
  HttpTransport transport({});
  RecordingClock clock;
  HttpRequest request = Get(server.url() + "/x");
  request.method = "POST";  // 429: never processed, so safe for any method
  request.idempotent = false;
  auto response = transport.Send(request, FastPolicy(), clock.Clock());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(clock.sleeps, std::vector<absl::Duration>{absl::Seconds(3)});
}

TEST(HttpTransportTest, ServiceUnavailableIsRetriedForAnIdempotentRequest) {
  ScriptedHttpServer server(InTurn(
      {HttpReply(503, "busy"), HttpReply(503, "busy"), HttpReply(200, "{}")}));
  HttpTransport transport({});
  RecordingClock clock;
  auto response =
      transport.Send(Get(server.url() + "/x"), FastPolicy(), clock.Clock());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(clock.sleeps, (std::vector<absl::Duration>{
                              absl::Milliseconds(10), absl::Milliseconds(20)}));
}

TEST(HttpTransportTest, AServerErrorIsNotRepeatedForANonIdempotentRequest) {
  ScriptedHttpServer server(InTurn({HttpReply(500, "oops")}));
  HttpTransport transport({});
  RecordingClock clock;
  HttpRequest request = Get(server.url() + "/x");
  request.method = "POST";
  request.idempotent = false;
  auto response = transport.Send(request, FastPolicy(), clock.Clock());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpTransportTest, AttemptsAreBoundedAndTheLastAnswerReturned) {
  ScriptedHttpServer server(InTurn({HttpReply(502, "bad gateway")}));
  HttpTransport transport({});
  RecordingClock clock;
  auto response =
      transport.Send(Get(server.url() + "/x"), FastPolicy(), clock.Clock());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 502);
  EXPECT_EQ(server.requests().size(), 4u);
}

TEST(HttpTransportTest, TheDeadlineBoundsRetriesAndWaits) {
  ScriptedHttpServer server(
      InTurn({HttpReply(503, "busy", {"Retry-After: 1"})}));
  HttpTransport transport({});
  RecordingClock clock;
  HttpRequest request = Get(server.url() + "/x");
  request.deadline = clock.now + absl::Milliseconds(2500);
  auto response = transport.Send(request, FastPolicy(), clock.Clock());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 503);
  // Tries at 0s, 1s and 2s; a third wait would end past 2.5s.
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(clock.sleeps,
            (std::vector<absl::Duration>{absl::Seconds(1), absl::Seconds(1)}));
}

TEST(HttpTransportTest, NothingIsSentPastTheDeadline) {
  ScriptedHttpServer server(InTurn({HttpReply(200, "{}")}));
  HttpTransport transport({});
  HttpRequest request = Get(server.url() + "/x");
  request.deadline = absl::Now() - absl::Seconds(1);
  auto response = transport.Do(request);
  EXPECT_TRUE(absl::IsDeadlineExceeded(response.status())) << response.status();
  EXPECT_TRUE(server.requests().empty());
}

TEST(HttpTransportTest, ARefusedConnectionIsRetriedEvenForAPost) {
  int port;
  {
    ScriptedHttpServer closed([](const SeenRequest&) { return Reply{}; });
    port = std::stoi(closed.url().substr(closed.url().rfind(':') + 1));
  }
  HttpTransport transport({});
  RecordingClock clock;
  HttpRequest request = Get("http://127.0.0.1:" + std::to_string(port) + "/x");
  request.method = "POST";
  request.idempotent = false;
  auto response = transport.Send(request, FastPolicy(), clock.Clock());
  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
  EXPECT_EQ(clock.sleeps.size(), 3u);  // four attempts
}

TEST(HttpTransportTest, StreamHandsOverChunksUntilTheCallerStops) {
  ScriptedHttpServer server([](const SeenRequest&) {
    return Reply{ChunkedHead() + Chunk("one\n") + Chunk("two\n"), true};
  });
  HttpTransport transport({});
  std::string received;
  auto response = transport.Stream(
      Get(server.url() + "/watch"), [&](absl::string_view chunk) {
        received.append(chunk.data(), chunk.size());
        return received.find("two\n") == std::string::npos;
      });
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(received, "one\ntwo\n");
}

TEST(HttpTransportTest, AStalledStreamIsCutByTheLowSpeedLimit) {
  ScriptedHttpServer server([](const SeenRequest&) {
    return Reply{ChunkedHead() + Chunk("{\"type\":\"ADDED\"}\n"), true};
  });
  HttpTransport transport({});
  HttpRequest request = Get(server.url() + "/watch");
  request.timeout = absl::ZeroDuration();
  request.stall_timeout = absl::Seconds(1);
  std::string received;
  auto response = transport.Stream(request, [&](absl::string_view chunk) {
    received.append(chunk.data(), chunk.size());
    return true;
  });
  EXPECT_TRUE(absl::IsDeadlineExceeded(response.status())) << response.status();
  EXPECT_EQ(received, "{\"type\":\"ADDED\"}\n");
}

TEST(HttpTransportTest, ACancelledStreamEnds) {
  ScriptedHttpServer server([](const SeenRequest&) {
    return Reply{ChunkedHead() + Chunk("x"), true};
  });
  HttpTransport transport({});
  std::atomic<bool> got_data{false};
  HttpRequest request = Get(server.url() + "/watch");
  request.timeout = absl::ZeroDuration();
  request.cancelled = [&] { return got_data.load(); };
  auto response = transport.Stream(request, [&](absl::string_view) {
    got_data = true;
    return true;
  });
  EXPECT_TRUE(absl::IsCancelled(response.status())) << response.status();
}

TEST(HttpTransportTest, AStreamsErrorAnswerComesBackWithItsBody) {
  ScriptedHttpServer server([](const SeenRequest&) {
    return HttpReply(410, "{\"reason\":\"Expired\"}");
  });
  HttpTransport transport({});
  bool called = false;
  auto response =
      transport.Stream(Get(server.url() + "/watch"), [&](absl::string_view) {
        called = true;
        return true;
      });
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 410);
  EXPECT_EQ(response->body, "{\"reason\":\"Expired\"}");
  EXPECT_FALSE(called);
}

TEST(ParseRetryAfterTest, ReadsSecondsAndHttpDates) {
  const absl::Time now =
      absl::FromUnixSeconds(1445412480);  // 21 Oct 2015 07:28
  EXPECT_EQ(ParseRetryAfter("120", now), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:29:00 GMT", now),
            absl::Seconds(60));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now),
            absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", now), std::nullopt);
}

TEST(FormatBytesTest, NamesCapsReadably) {
  EXPECT_EQ(FormatBytes(16 << 20), "16 MiB");
  EXPECT_EQ(FormatBytes(64 << 10), "64 KiB");
  EXPECT_EQ(FormatBytes(1000), "1000 bytes");
}

}  // namespace
}  // namespace smartcanary
