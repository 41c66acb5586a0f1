#include "tests/unit/scripted_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace smartcanary::testing {
namespace {

// Waits up to 100ms for `fd` to be readable.
bool Readable(int fd) {
  pollfd poll_fd{fd, POLLIN, 0};
  return poll(&poll_fd, 1, 100) > 0;
}

bool WriteAll(int fd, const std::string& data) {
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n =
        send(fd, data.data() + written, data.size() - written, MSG_NOSIGNAL);
    if (n <= 0) return false;
    written += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Reply HttpReply(int code, const std::string& body,
                const std::vector<std::string>& headers) {
  std::string raw = absl::StrCat(
      "HTTP/1.1 ", code, " Scripted\r\n", "Content-Type: application/json\r\n",
      "Content-Length: ", body.size(), "\r\n", "Connection: close\r\n");
  for (const std::string& header : headers)
    absl::StrAppend(&raw, header, "\r\n");
  absl::StrAppend(&raw, "\r\n", body);
  return {raw, false};
}

std::function<Reply(const SeenRequest&)> InTurn(std::vector<Reply> replies) {
  auto next = std::make_shared<std::atomic<size_t>>(0);
  return [replies = std::move(replies), next](const SeenRequest&) {
    return replies[std::min((*next)++, replies.size() - 1)];
  };
}

std::string ChunkedHead() {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
         "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
}

std::string Chunk(const std::string& data) {
  return absl::StrFormat("%x\r\n%s\r\n", data.size(), data);
}

ScriptedHttpServer::ScriptedHttpServer(Handler handler)
    : handler_(std::move(handler)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  listen(listen_fd_, 64);
  socklen_t length = sizeof(address);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { Accept(); });
}

ScriptedHttpServer::~ScriptedHttpServer() {
  stopping_ = true;
  acceptor_.join();
  std::vector<std::thread> connections;
  {
    absl::MutexLock lock(&mu_);
    connections.swap(connections_);
  }
  for (std::thread& connection : connections) connection.join();
  close(listen_fd_);
}

std::string ScriptedHttpServer::url() const {
  return absl::StrCat("http://127.0.0.1:", port_);
}

std::vector<SeenRequest> ScriptedHttpServer::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

void ScriptedHttpServer::Accept() {
  while (!stopping_) {
    if (!Readable(listen_fd_)) continue;
    const int connection = accept(listen_fd_, nullptr, nullptr);
    if (connection < 0) continue;
    absl::MutexLock lock(&mu_);
    connections_.emplace_back([this, connection] { Serve(connection); });
  }
}

void ScriptedHttpServer::Serve(int connection) {
  std::string data;
  size_t head_end = std::string::npos;
  size_t body_length = 0;
  char buffer[4096];
  while (!stopping_) {
    if (head_end != std::string::npos &&
        data.size() >= head_end + 4 + body_length)
      break;
    if (!Readable(connection)) continue;
    const ssize_t n = recv(connection, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    data.append(buffer, static_cast<size_t>(n));
    if (head_end == std::string::npos &&
        (head_end = data.find("\r\n\r\n")) != std::string::npos) {
      for (absl::string_view line : absl::StrSplit(
               absl::string_view(data).substr(0, head_end), "\r\n")) {
        const size_t colon = line.find(':');
        if (colon != absl::string_view::npos &&
            absl::AsciiStrToLower(line.substr(0, colon)) == "content-length") {
          (void)absl::SimpleAtoi(
              absl::StripAsciiWhitespace(line.substr(colon + 1)), &body_length);
        }
      }
    }
  }
  if (head_end == std::string::npos) {
    close(connection);
    return;
  }
  SeenRequest request;
  std::vector<std::string> lines =
      absl::StrSplit(data.substr(0, head_end), "\r\n");
  std::vector<std::string> first = absl::StrSplit(lines[0], ' ');
  if (first.size() >= 2) {
    request.method = first[0];
    request.target = first[1];
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    request.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  request.body = data.substr(head_end + 4, body_length);
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
  }
  const Reply reply = handler_(request);
  WriteAll(connection, reply.raw);
  while (reply.hold_open && !stopping_) {
    // Silent, but notices the client hanging up.
    if (Readable(connection) &&
        recv(connection, buffer, sizeof(buffer), 0) <= 0)
      break;
  }
  close(connection);
}

}  // namespace smartcanary::testing
