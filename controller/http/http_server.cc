#include "controller/http/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

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
    default:
      return "Error";
  }
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
  listen_fd_ = socket(found->ai_family, SOCK_STREAM, 0);
  int yes = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  const bool bound = bind(listen_fd_, found->ai_addr, found->ai_addrlen) == 0;
  freeaddrinfo(found);
  if (!bound || listen(listen_fd_, 64) != 0) {
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
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
}

void HttpServer::Serve() {
  while (!stopping_) {
    pollfd ready{listen_fd_, POLLIN, 0};
    if (poll(&ready, 1, 200) <= 0) continue;
    const int connection = accept(listen_fd_, nullptr, nullptr);
    if (connection < 0) continue;
    Answer(connection);
    close(connection);
  }
}

void HttpServer::Answer(int connection) {
  timeval timeout{2, 0};
  setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string raw;
  char buffer[4096];
  size_t header_end;
  while ((header_end = raw.find("\r\n\r\n")) == std::string::npos) {
    if (raw.size() > 65536) return;
    const ssize_t got = recv(connection, buffer, sizeof(buffer), 0);
    if (got <= 0) return;
    raw.append(buffer, got);
  }
  std::vector<std::string> lines =
      absl::StrSplit(raw.substr(0, header_end), "\r\n");
  std::vector<std::string> first = absl::StrSplit(lines[0], ' ');
  Response response{400, "text/plain; charset=utf-8", "bad request\n"};
  if (first.size() >= 2) {
    Request request;
    request.method = first[0];
    request.path = first[1].substr(0, first[1].find('?'));
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      request.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
    size_t length = 0;
    if (auto it = request.headers.find("content-length");
        it != request.headers.end()) {
      (void)absl::SimpleAtoi(it->second, &length);
    }
    request.body = raw.substr(header_end + 4);
    while (request.body.size() < length && request.body.size() < (1u << 20)) {
      const ssize_t got = recv(connection, buffer, sizeof(buffer), 0);
      if (got <= 0) return;
      request.body.append(buffer, got);
    }
    response = {404, "text/plain; charset=utf-8", "not found\n"};
    if (auto handler = handlers_.find(request.path);
        handler != handlers_.end()) {
      response = handler->second(request);
    }
  }
  const std::string reply =
      absl::StrCat("HTTP/1.1 ", response.code, " ", Reason(response.code),
                   "\r\nContent-Type: ", response.content_type,
                   "\r\nContent-Length: ", response.body.size(),
                   "\r\nConnection: close\r\n\r\n", response.body);
  size_t sent = 0;
  while (sent < reply.size()) {
    const ssize_t n = send(connection, reply.data() + sent, reply.size() - sent,
                           MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += n;
  }
}

}  // namespace smartcanary::http
