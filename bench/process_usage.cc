#include "bench/process_usage.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace smartcanary::bench {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The fields of /proc/PID/stat after "(comm)": comm may hold spaces and
// parentheses, so split after the last ')'. Field 3 (state) is index 0.
std::vector<std::string> StatFields(const std::string& stat) {
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return {};
  return absl::StrSplit(stat.substr(close + 1), ' ', absl::SkipEmpty());
}

}  // namespace

absl::StatusOr<ProcessUsage> ReadProcessUsage(pid_t pid) {
  const std::string dir = absl::StrCat("/proc/", pid);
  ProcessUsage usage;
  bool found_hwm = false;
  for (absl::string_view line :
       absl::StrSplit(ReadAll(dir + "/status"), '\n')) {
    double* field = nullptr;
    if (absl::ConsumePrefix(&line, "VmHWM:")) {
      field = &usage.peak_rss_mb;
    } else if (absl::ConsumePrefix(&line, "RssAnon:")) {
      field = &usage.rss_anon_mb;
    } else {
      continue;
    }
    line = absl::StripAsciiWhitespace(line);
    absl::ConsumeSuffix(&line, " kB");
    double kib = 0;
    if (!absl::SimpleAtod(line, &kib)) break;
    *field = kib * 1024 / 1e6;
    found_hwm = found_hwm || field == &usage.peak_rss_mb;
  }
  if (!found_hwm)
    return absl::NotFoundError(absl::StrCat("no VmHWM in ", dir, "/status"));
  // utime and stime are fields 14 and 15 of stat (indexes 11, 12 here).
  const std::vector<std::string> fields = StatFields(ReadAll(dir + "/stat"));
  double utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtod(fields[11], &utime) ||
      !absl::SimpleAtod(fields[12], &stime)) {
    return absl::NotFoundError(absl::StrCat("cannot parse ", dir, "/stat"));
  }
  usage.cpu_seconds = (utime + stime) / sysconf(_SC_CLK_TCK);
  return usage;
}

pid_t FindChild(const std::string& comm) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return -1;
  pid_t found = -1;
  while (dirent* entry = readdir(proc)) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
    const std::string dir = absl::StrCat("/proc/", pid);
    if (absl::StripTrailingAsciiWhitespace(ReadAll(dir + "/comm")) != comm)
      continue;
    const std::vector<std::string> fields = StatFields(ReadAll(dir + "/stat"));
    pid_t parent = 0;
    if (fields.size() > 1 && absl::SimpleAtoi(fields[1], &parent) &&
        parent == getpid()) {
      found = pid;
      break;
    }
  }
  closedir(proc);
  return found;
}

AnonPeakSampler::AnonPeakSampler(pid_t pid)
    : thread_([this, pid] {
        while (!stop_) {
          auto usage = ReadProcessUsage(pid);
          if (!usage.ok()) return;  // the process is gone
          {
            absl::MutexLock lock(&mu_);
            peak_mb_ = std::max(peak_mb_, usage->rss_anon_mb);
          }
          absl::SleepFor(absl::Milliseconds(100));
        }
      }) {}

AnonPeakSampler::~AnonPeakSampler() {
  stop_ = true;
  thread_.join();
}

double AnonPeakSampler::PeakMb() const {
  absl::MutexLock lock(&mu_);
  return peak_mb_;
}

}  // namespace smartcanary::bench
