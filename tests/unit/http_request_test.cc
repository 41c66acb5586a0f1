// The pure request parser: what it accepts, and every refusal's status.
#include "controller/http/http_request.h"

#include "gtest/gtest.h"

namespace smartcanary::http {
namespace {

using State = ParsedRequest::State;

TEST(HttpRequestTest, ParsesACompleteRequest) {
  const ParsedRequest parsed = ParseRequest(
      "POST /a/b?x=1 HTTP/1.1\r\nHost: h\r\nX-Thing:  v \r\n"
      "Content-Length: 3\r\n\r\nabcEXTRA",
      {});
  ASSERT_EQ(parsed.state, State::kComplete) << parsed.error;
  EXPECT_EQ(parsed.request.method, "POST");
  EXPECT_EQ(parsed.request.path, "/a/b");
  EXPECT_EQ(parsed.request.headers.at("x-thing"), "v");
  EXPECT_EQ(parsed.request.body, "abc");
}

TEST(HttpRequestTest, WaitsForTheRestOfHeadAndBody) {
  EXPECT_EQ(ParseRequest("GET / HTTP/1.1\r\nHost: h\r\n", {}).state,
            State::kIncomplete);
  EXPECT_EQ(
      ParseRequest("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab", {}).state,
      State::kIncomplete);
}

int CodeOf(std::string_view raw, RequestLimits limits = {}) {
  const ParsedRequest parsed = ParseRequest(raw, limits);
  EXPECT_EQ(parsed.state, State::kRejected) << raw;
  return parsed.code;
}

TEST(HttpRequestTest, RefusesWhatItCannotReadUnambiguously) {
  EXPECT_EQ(CodeOf("GET /\r\n\r\n"), 400);
  EXPECT_EQ(CodeOf("GET  / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(CodeOf("GET http://x/ HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(CodeOf("GET / HTTP/2\r\n\r\n"), 505);
  EXPECT_EQ(CodeOf("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"), 400);
  EXPECT_EQ(CodeOf("GET / HTTP/1.1\r\n folded\r\n\r\n"), 400);
  EXPECT_EQ(CodeOf("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n"), 400);
  EXPECT_EQ(CodeOf("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
  EXPECT_EQ(CodeOf("POST / HTTP/1.1\r\nContent-Length: 1\r\n"
                   "Content-Length: 2\r\n\r\n"),
            400);
  EXPECT_EQ(CodeOf("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999"
                   "\r\n\r\n"),
            400);
  EXPECT_EQ(CodeOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            501);
}

TEST(HttpRequestTest, EnforcesItsLimits) {
  RequestLimits limits;
  limits.max_head_bytes = 64;
  limits.max_headers = 2;
  limits.max_body_bytes = 10;
  // Refused before the head is complete: nothing more is buffered.
  EXPECT_EQ(CodeOf("GET / HTTP/1.1\r\nX: " + std::string(100, 'a'), limits),
            431);
  EXPECT_EQ(CodeOf("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits),
            431);
  EXPECT_EQ(CodeOf("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", limits),
            413);
}

}  // namespace
}  // namespace smartcanary::http
