#ifndef SMARTCANARY_BENCH_SILENT_SERVER_H_
#define SMARTCANARY_BENCH_SILENT_SERVER_H_

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace smartcanary::bench {

// A "Prometheus" on loopback that accepts connections and never answers:
// every query sent to it hangs until the client's own timeout. Holds at
// most `max_connections` open (more are closed at once), so a runaway
// client cannot exhaust this process's file descriptors.
class SilentServer {
 public:
  explicit SilentServer(int max_connections);
  ~SilentServer();
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;

  std::string url() const;
  // Connections accepted so far (each one a query left hanging).
  int accepted() const { return accepted_.load(); }

 private:
  void Serve();

  int listener_ = -1;
  int port_ = 0;
  int max_connections_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::vector<int> held_;  // only touched by the serving thread
  std::thread thread_;
};

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_SILENT_SERVER_H_
