#include "controller/http/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace smartcanary::http {
namespace {

const char* Reason(int code) {
  switch (code) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

// Milliseconds left until `deadline`, for poll(); 0 once it has passed.
int MillisUntil(absl::Time deadline) {
  const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
  return static_cast<int>(std::clamp<int64_t>(left, 0, 60'000));
}

// Sends all of `data` unless the peer stops reading past `deadline`.
void SendAll(int fd, std::string_view data, absl::Time deadline) {
  while (!data.empty()) {
    const ssize_t n =
        send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (absl::Now() >= deadline) return;
      pollfd writable{fd, POLLOUT, 0};
      poll(&writable, 1, MillisUntil(deadline));
      continue;
    }
    return;
  }
}

std::string Serialize(const Response& response, bool head) {
  return absl::StrCat("HTTP/1.1 ", response.code, " ", Reason(response.code),
                      "\r\nContent-Type: ", response.content_type,
                      "\r\nContent-Length: ", response.body.size(),
                      response.code == 405 ? "\r\nAllow: GET, HEAD" : "",
                      "\r\nConnection: close\r\n\r\n",
                      head ? "" : response.body);
}

Response Text(int code, std::string body) {
  return {code, "text/plain; charset=utf-8", std::move(body)};
}

}  // namespace

absl::StatusOr<int> HttpServer::Start(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http-listen: \"", address, "\" is not host:port"));
  }
  std::string host = address.substr(0, colon);
  if (host.empty()) host = "0.0.0.0";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) !=
      0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http-listen: cannot resolve ", host));
  }
  listen_fd_ = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int yes = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  const bool bound = bind(listen_fd_, found->ai_addr, found->ai_addrlen) == 0;
  freeaddrinfo(found);
  if (!bound || listen(listen_fd_, 128) != 0) {
    const std::string error = std::strerror(errno);
    close(listen_fd_);
    listen_fd_ = -1;
    return absl::UnavailableError(
        absl::StrCat("--http-listen ", address, ": ", error));
  }
  sockaddr_storage local{};
  socklen_t length = sizeof(local);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&local), &length);
  const int bound_port =
      ntohs(local.ss_family == AF_INET6
                ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  thread_ = std::thread([this] { Serve(); });
  return bound_port;
}

void HttpServer::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Connection& c : connections_) {
      if (!c.done) shutdown(c.fd, SHUT_RDWR);
    }
  }
  Reap(/*all=*/true);
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
}

void HttpServer::Serve() {
  while (!stopping_) {
    Reap(/*all=*/false);
    pollfd ready{listen_fd_, POLLIN, 0};
    if (poll(&ready, 1, 200) <= 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) Admit(fd);
  }
}

void HttpServer::Admit(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  int active = 0;
  Connection* oldest_reading = nullptr;
  for (Connection& c : connections_) {
    if (c.done || c.evicted) continue;
    ++active;
    if (!c.answering &&
        (oldest_reading == nullptr || c.accepted < oldest_reading->accepted)) {
      oldest_reading = &c;
    }
  }
  if (active >= options_.max_connections) {
    if (oldest_reading == nullptr) {
      // Every slot is running a handler: refuse rather than queue.
      SendAll(fd, Serialize(Text(503, "busy\n"), false), absl::Now());
      close(fd);
      return;
    }
    // Its thread sees end of stream and leaves without an answer.
    oldest_reading->evicted = true;
    shutdown(oldest_reading->fd, SHUT_RDWR);
  }
  Connection& added = connections_.emplace_back();
  added.fd = fd;
  added.accepted = absl::Now();
  added.thread = std::thread([this, &added] { ServeConnection(&added); });
}

void HttpServer::Reap(bool all) {
  std::list<Connection> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      auto next = std::next(it);
      if (all || it->done) finished.splice(finished.end(), connections_, it);
      it = next;
    }
  }
  // Spliced nodes keep their addresses, so a thread still finishing (all)
  // reads and writes its Connection where it was.
  for (Connection& c : finished) {
    if (c.thread.joinable()) c.thread.join();
  }
}

void HttpServer::ServeConnection(Connection* connection) {
  const int fd = connection->fd;
  const absl::Time deadline = absl::Now() + options_.request_deadline;
  std::string raw;
  ParsedRequest parsed;
  std::optional<Response> response;
  char buffer[4096];
  while (!response) {
    parsed = ParseRequest(raw, options_.limits);
    if (parsed.state == ParsedRequest::State::kRejected) {
      response = Text(parsed.code, parsed.error + "\n");
      break;
    }
    if (parsed.state == ParsedRequest::State::kComplete) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        connection->answering = true;
      }
      response = Dispatch(parsed.request);
      break;
    }
    pollfd readable{fd, POLLIN, 0};
    const int ready = poll(&readable, 1, MillisUntil(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0 && absl::Now() >= deadline) {
      response = Text(408, "request not received in time\n");
      break;
    }
    if (ready < 0) break;
    if (ready == 0) continue;
    const ssize_t got = recv(fd, buffer, sizeof(buffer), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // gone, or evicted for a newer client
    raw.append(buffer, static_cast<size_t>(got));
  }
  if (response) {
    SendAll(
        fd,
        Serialize(*response, parsed.state == ParsedRequest::State::kComplete &&
                                 parsed.request.method == "HEAD"),
        absl::Now() + options_.write_deadline);
    shutdown(fd, SHUT_WR);
  }
  std::lock_guard<std::mutex> lock(mu_);
  close(fd);
  connection->done = true;
}

Response HttpServer::Dispatch(const Request& request) const {
  auto route = handlers_.find(request.path);
  if (route == handlers_.end()) return Text(404, "not found\n");
  if (route->second.get_only && request.method != "GET" &&
      request.method != "HEAD") {
    return Text(405, "method not allowed\n");
  }
  return route->second.handler(request);
}

}  // namespace smartcanary::http
