#ifndef SMARTCANARY_BENCH_PROCESS_USAGE_H_
#define SMARTCANARY_BENCH_PROCESS_USAGE_H_

#include <sys/types.h>

#include <atomic>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace smartcanary::bench {

// What a process has used since it started, as the kernel counts it.
struct ProcessUsage {
  double peak_rss_mb = 0;  // VmHWM of /proc/PID/status, in 10^6 bytes
  double cpu_seconds = 0;  // utime + stime of /proc/PID/stat
  // RssAnon of /proc/PID/status now, in 10^6 bytes: the memory the process
  // allocated itself, without the pages of shared libraries it maps (which
  // VmHWM counts, though other processes share them and the kernel can
  // drop them).
  double rss_anon_mb = 0;
};

absl::StatusOr<ProcessUsage> ReadProcessUsage(pid_t pid);

// The pid of this process's child whose /proc/PID/comm is `comm` (the
// program name, at most 15 characters), or -1. The fixture's ChildProcess
// does not say which pid it started.
pid_t FindChild(const std::string& comm);

// The largest RssAnon of `pid` seen while it lives, read every 100 ms on a
// thread of its own (the kernel keeps no high-water mark for it).
class AnonPeakSampler {
 public:
  explicit AnonPeakSampler(pid_t pid);
  ~AnonPeakSampler();
  AnonPeakSampler(const AnonPeakSampler&) = delete;
  AnonPeakSampler& operator=(const AnonPeakSampler&) = delete;

  double PeakMb() const;

 private:
  std::atomic<bool> stop_{false};
  mutable absl::Mutex mu_;
  double peak_mb_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_PROCESS_USAGE_H_
