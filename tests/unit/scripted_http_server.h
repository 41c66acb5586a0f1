#ifndef SMARTCANARY_TESTS_UNIT_SCRIPTED_HTTP_SERVER_H_
#define SMARTCANARY_TESTS_UNIT_SCRIPTED_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

// A loopback HTTP/1.1 server whose answers a test writes byte for byte:
// status lines, Retry-After, bodies larger than a cap, streams that stall.
namespace smartcanary::testing {

struct SeenRequest {
  std::string method;
  std::string target;                          // path and query
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct Reply {
  std::string raw;         // written as it is
  bool hold_open = false;  // then keep the connection open, silent
};

// A complete answer that closes the connection.
Reply HttpReply(int code, const std::string& body,
                const std::vector<std::string>& headers = {});
// Answers `replies` in turn, the last one for every request after.
std::function<Reply(const SeenRequest&)> InTurn(std::vector<Reply> replies);
// The head of a chunked 200 answer, and one chunk of it.
std::string ChunkedHead();
std::string Chunk(const std::string& data);

class ScriptedHttpServer {
 public:
  using Handler = std::function<Reply(const SeenRequest&)>;

  // Serves on 127.0.0.1 at a free port, each connection on its own thread.
  explicit ScriptedHttpServer(Handler handler);
  ~ScriptedHttpServer();

  std::string url() const;  // http://127.0.0.1:PORT
  std::vector<SeenRequest> requests() const;

 private:
  void Accept();
  void Serve(int connection);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  mutable absl::Mutex mu_;
  std::vector<SeenRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> connections_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smartcanary::testing

#endif  // SMARTCANARY_TESTS_UNIT_SCRIPTED_HTTP_SERVER_H_
