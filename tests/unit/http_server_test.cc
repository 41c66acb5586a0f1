// The probe and metrics server against real sockets: a client that never
// finishes its request must not hold up another one.
#include "controller/http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"

namespace smartcanary::http {
namespace {

// Only a guard against a hung test, never a claim about speed.
constexpr int kGuardMillis = 60'000;

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  return fd;
}

void Send(int fd, const std::string& text) {
  ASSERT_EQ(send(fd, text.data(), text.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(text.size()));
}

// Everything the server writes until it closes the connection.
std::string ReadToEnd(int fd) {
  std::string out;
  char buffer[4096];
  while (true) {
    pollfd readable{fd, POLLIN, 0};
    if (poll(&readable, 1, kGuardMillis) <= 0) break;
    const ssize_t got = recv(fd, buffer, sizeof(buffer), 0);
    if (got <= 0) break;
    out.append(buffer, static_cast<size_t>(got));
  }
  return out;
}

std::string Fetch(int port, const std::string& request) {
  const int fd = Connect(port);
  Send(fd, request);
  std::string answer = ReadToEnd(fd);
  close(fd);
  return answer;
}

// True while the server has neither answered nor closed `fd`.
bool StillOpen(int fd) {
  char byte;
  const ssize_t got = recv(fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
  return got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

class HttpServerTest : public ::testing::Test {
 protected:
  void Serve(ServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(options);
    server_->Handle("/healthz", [] {
      return Response{200, "text/plain", "ok\n"};
    });
    server_->Handle("/echo", [](const Request& request) {
      return Response{200, "text/plain", request.method + " " + request.body};
    });
    auto port = server_->Start("127.0.0.1:0");
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpServerTest, SlowClientDoesNotBlockAnother) {
  ServerOptions options;
  options.request_deadline = absl::Minutes(10);  // the slow one stays
  Serve(options);
  // Slowloris: half a request line, then silence.
  const int slow = Connect(port_);
  Send(slow, "GET /hea");
  // And one that connects but never sends a byte.
  const int silent = Connect(port_);

  const std::string answer = Fetch(port_, "GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(answer.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_EQ(answer.substr(answer.size() - 3), "ok\n");
  // The answer came while both slow clients were still connected.
  EXPECT_TRUE(StillOpen(slow));
  EXPECT_TRUE(StillOpen(silent));

  // The slow client is still served once it finishes.
  Send(slow, "lthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(ReadToEnd(slow).substr(0, 15), "HTTP/1.1 200 OK");
  close(slow);
  close(silent);
}

TEST_F(HttpServerTest, WholeRequestDeadlineEndsATricklingClient) {
  ServerOptions options;
  options.request_deadline = absl::Milliseconds(300);
  Serve(options);
  const int slow = Connect(port_);
  Send(slow, "GET /healthz HTTP/1.1\r\n");
  // Never completed: the server answers 408 and closes, however long the
  // client would keep sending.
  EXPECT_EQ(ReadToEnd(slow).substr(0, 12), "HTTP/1.1 408");
  close(slow);
}

TEST_F(HttpServerTest, AtTheCapTheOldestUnfinishedRequestMakesRoom) {
  ServerOptions options;
  options.max_connections = 2;
  options.request_deadline = absl::Minutes(10);
  Serve(options);
  const int first = Connect(port_);
  Send(first, "GET /");
  const int second = Connect(port_);
  Send(second, "GET /");
  // Wait until the server has admitted both (each got its slot) by a
  // request that itself only succeeds with a free slot: the third evicts
  // the oldest idle one.
  const std::string answer = Fetch(port_, "GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(answer.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_EQ(ReadToEnd(first), "");  // closed without an answer
  close(first);
  close(second);
}

TEST_F(HttpServerTest, RefusesWhatItDoesNotServe) {
  Serve();
  EXPECT_EQ(Fetch(port_, "POST /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
                .substr(0, 12),
            "HTTP/1.1 405");
  EXPECT_EQ(Fetch(port_, "GET /nothing HTTP/1.1\r\n\r\n").substr(0, 12),
            "HTTP/1.1 404");
  EXPECT_EQ(Fetch(port_, "GET /healthz HTTP/1.1\r\nX: " +
                             std::string(10000, 'a') + "\r\n\r\n")
                .substr(0, 12),
            "HTTP/1.1 431");
  EXPECT_EQ(Fetch(port_,
                  "GET /healthz HTTP/1.1\r\nX: a\x1b"
                  "b\r\n\r\n")
                .substr(0, 12),
            "HTTP/1.1 400");
}

TEST_F(HttpServerTest, HeadHasNoBodyAndPostsReachRequestHandlers) {
  Serve();
  const std::string head = Fetch(port_, "HEAD /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(head.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_NE(head.find("Content-Length: 3\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  const std::string echo =
      Fetch(port_, "POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(echo.substr(echo.size() - 10), "POST hello");
}

}  // namespace
}  // namespace smartcanary::http
