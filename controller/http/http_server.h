#ifndef SMARTCANARY_CONTROLLER_HTTP_HTTP_SERVER_H_
#define SMARTCANARY_CONTROLLER_HTTP_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace smartcanary::http {

struct Request {
  std::string method;
  std::string path;                            // without the query string
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct Response {
  int code = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// A small HTTP/1.1 server: one request per connection, answered in the
// accept thread. Enough for probes, a Prometheus scrape and test fixtures;
// not a general web server.
class HttpServer {
 public:
  using Handler = std::function<Response(const Request&)>;

  void Handle(const std::string& path, Handler handler) {
    handlers_[path] = std::move(handler);
  }
  // A GET-style endpoint that ignores the request.
  void Handle(const std::string& path, std::function<Response()> handler) {
    handlers_[path] = [handler = std::move(handler)](const Request&) {
      return handler();
    };
  }
  // Binds "host:port" (port 0 picks one) and serves until Stop.
  absl::StatusOr<int> Start(const std::string& address);
  void Stop();
  ~HttpServer() { Stop(); }

 private:
  void Serve();
  void Answer(int connection);

  std::map<std::string, Handler> handlers_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace smartcanary::http

#endif  // SMARTCANARY_CONTROLLER_HTTP_HTTP_SERVER_H_
