#ifndef SMARTCANARY_COMMON_TOKEN_FILE_H_
#define SMARTCANARY_COMMON_TOKEN_FILE_H_

#include <sys/types.h>

#include <ctime>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace smartcanary {

// A shared secret kept in a file (a mounted Kubernetes Secret), read again
// whenever the file changes so that rotating the Secret needs no restart.
// Thread-safe.
class TokenFile {
 public:
  // Fails when the file cannot be read or holds only white space: a process
  // must not start with an empty secret.
  static absl::StatusOr<std::unique_ptr<TokenFile>> Open(
      const std::string& path);

  // The token now: the file re-read if its identity, size or time changed.
  // A file that became unreadable or empty keeps the last good token (a
  // Secret update replaces the file in steps).
  std::string Current() const;

  const std::string& path() const { return path_; }

 private:
  explicit TokenFile(std::string path) : path_(std::move(path)) {}
  // Re-reads when changed; false when the file cannot be used.
  bool Refresh() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::string path_;
  mutable absl::Mutex mu_;
  mutable std::string token_ ABSL_GUARDED_BY(mu_);
  mutable ino_t inode_ ABSL_GUARDED_BY(mu_) = 0;
  mutable off_t size_ ABSL_GUARDED_BY(mu_) = -1;
  mutable timespec mtime_ ABSL_GUARDED_BY(mu_) = {};
};

// Compares a presented secret with the expected one in time that depends
// only on the expected one's length, so timing does not reveal how much of
// a guess was right.
bool ConstantTimeEquals(absl::string_view presented,
                        absl::string_view expected);

}  // namespace smartcanary

#endif  // SMARTCANARY_COMMON_TOKEN_FILE_H_
