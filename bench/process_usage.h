#ifndef SMARTCANARY_BENCH_PROCESS_USAGE_H_
#define SMARTCANARY_BENCH_PROCESS_USAGE_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"

namespace smartcanary::bench {

// What a process has used since it started, as the kernel counts it.
struct ProcessUsage {
  double peak_rss_mb = 0;  // VmHWM of /proc/PID/status, in 10^6 bytes
  double cpu_seconds = 0;  // utime + stime of /proc/PID/stat
};

absl::StatusOr<ProcessUsage> ReadProcessUsage(pid_t pid);

// The pid of this process's child whose /proc/PID/comm is `comm` (the
// program name, at most 15 characters), or -1. The fixture's ChildProcess
// does not say which pid it started.
pid_t FindChild(const std::string& comm);

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_PROCESS_USAGE_H_
