#include "bench/silent_server.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace smartcanary::bench {

SilentServer::SilentServer(int max_connections)
    : max_connections_(max_connections) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (listener_ >= 0 &&
      bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      listen(listener_, 256) == 0) {
    socklen_t length = sizeof(addr);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &length);
    port_ = ntohs(addr.sin_port);
  }
  thread_ = std::thread([this] { Serve(); });
}

SilentServer::~SilentServer() {
  stop_ = true;
  thread_.join();
  for (int connection : held_) close(connection);
  if (listener_ >= 0) close(listener_);
}

std::string SilentServer::url() const {
  return absl::StrCat("http://127.0.0.1:", port_);
}

void SilentServer::Serve() {
  // Polls so that the destructor is noticed within a fifth of a second.
  while (!stop_ && listener_ >= 0) {
    pollfd ready{listener_, POLLIN, 0};
    if (poll(&ready, 1, 200) <= 0) continue;
    const int connection = accept(listener_, nullptr, nullptr);
    if (connection < 0) continue;
    if (static_cast<int>(held_.size()) >= max_connections_) {
      close(connection);
      continue;
    }
    held_.push_back(connection);
    ++accepted_;
  }
}

}  // namespace smartcanary::bench
