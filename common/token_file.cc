#include "common/token_file.h"

#include <sys/stat.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"

namespace smartcanary {

absl::StatusOr<std::unique_ptr<TokenFile>> TokenFile::Open(
    const std::string& path) {
  std::unique_ptr<TokenFile> file(new TokenFile(path));
  absl::MutexLock lock(&file->mu_);
  if (!file->Refresh() || file->token_.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": cannot read a non-empty token"));
  }
  return file;
}

bool TokenFile::Refresh() const {
  struct stat now {};
  if (stat(path_.c_str(), &now) != 0) return false;
  if (now.st_ino == inode_ && now.st_size == size_ &&
      now.st_mtim.tv_sec == mtime_.tv_sec &&
      now.st_mtim.tv_nsec == mtime_.tv_nsec) {
    return true;
  }
  auto text = ReadSecretFile(path_);
  if (!text.ok() || text->empty()) return false;
  token_ = std::move(*text);
  inode_ = now.st_ino;
  size_ = now.st_size;
  mtime_ = now.st_mtim;
  return true;
}

std::string TokenFile::Current() const {
  absl::MutexLock lock(&mu_);
  Refresh();
  return token_;
}

bool ConstantTimeEquals(absl::string_view presented,
                        absl::string_view expected) {
  unsigned char diff = presented.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    const unsigned char got =
        i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0;
    diff |= got ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

}  // namespace smartcanary
