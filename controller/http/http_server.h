#ifndef SMARTCANARY_CONTROLLER_HTTP_HTTP_SERVER_H_
#define SMARTCANARY_CONTROLLER_HTTP_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/http/http_request.h"

namespace smartcanary::http {

struct Response {
  int code = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct ServerOptions {
  // Connections served at once. At the cap a new connection takes the slot
  // of the oldest one still sending its request; when every slot is
  // answering, the new one gets 503.
  int max_connections = 64;
  // The whole request must arrive within this, however it trickles in: a
  // client sending a byte at a time holds its slot no longer than this.
  absl::Duration request_deadline = absl::Seconds(10);
  // Writing the answer to a client that does not read is given up after this.
  absl::Duration write_deadline = absl::Seconds(10);
  RequestLimits limits;
};

// A small HTTP/1.1 server for probes, a Prometheus scrape and test fixtures:
// one request per connection, each connection on its own thread (up to
// max_connections), so a slow or silent client cannot hold up another.
// Handlers run concurrently and must be thread-safe.
class HttpServer {
 public:
  using Handler = std::function<Response(const Request&)>;

  HttpServer() = default;
  explicit HttpServer(ServerOptions options) : options_(std::move(options)) {}
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer() { Stop(); }

  // A handler that reads the request answers any method, bodies included
  // (test fixtures take POSTs).
  void Handle(const std::string& path, Handler handler) {
    handlers_[path] = {std::move(handler), /*get_only=*/false};
  }
  // A GET-style endpoint that ignores the request: GET and HEAD only, any
  // other method gets 405.
  void Handle(const std::string& path, std::function<Response()> handler) {
    handlers_[path] = {
        [handler = std::move(handler)](const Request&) { return handler(); },
        /*get_only=*/true};
  }
  // Binds "host:port" (port 0 picks one) and serves until Stop. Register
  // handlers before Start.
  absl::StatusOr<int> Start(const std::string& address);
  // Closes every connection and waits for running handlers to return.
  void Stop();

 private:
  struct Route {
    Handler handler;
    bool get_only;
  };
  struct Connection {
    int fd;
    absl::Time accepted;
    bool answering = false;  // the request is in; the slot is not evictable
    bool evicted = false;    // shut down to make room; leaving
    bool done = false;       // the thread has finished and can be joined
    std::thread thread;
  };

  void Serve();
  void Admit(int fd);
  void Reap(bool all);
  void ServeConnection(Connection* connection);
  Response Dispatch(const Request& request) const;

  ServerOptions options_;
  std::map<std::string, Route> handlers_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mu_;
  std::list<Connection> connections_;  // guarded by mu_
};

}  // namespace smartcanary::http

#endif  // SMARTCANARY_CONTROLLER_HTTP_HTTP_SERVER_H_
