#include "sysfs_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "unique_fd.h"

namespace rds_nvme {

int OpenRetry(const std::string& path, int flags) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

ssize_t WriteRetry(int fd, const char* data, size_t len) {
  ssize_t n;
  do {
    n = ::write(fd, data, len);
  } while (n < 0 && errno == EINTR);
  return n;
}

ssize_t ReadRetry(int fd, char* data, size_t len) {
  ssize_t n;
  do {
    n = ::read(fd, data, len);
  } while (n < 0 && errno == EINTR);
  return n;
}

std::optional<std::string> ReadAttribute(const std::string& path) {
  UniqueFd fd(OpenRetry(path, O_RDONLY));
  if (!fd.Valid()) return std::nullopt;
  std::string value(kMaxAttributeBytes, '\0');
  size_t used = 0;
  // sysfs returns a whole attribute in one read, and so do regular files (test trees)
  // short of their end: a short read is the end, which saves the read that would return
  // 0 (a scan is mostly these reads). The bound stops the loop either way.
  while (used < value.size()) {
    size_t want = value.size() - used;
    ssize_t n = ReadRetry(fd.Get(), &value[used], want);
    if (n < 0) return std::nullopt;
    used += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < want) break;
  }
  value.resize(used);
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ' || value.back() == '\t' ||
                            value.back() == '\r')) {
    value.pop_back();
  }
  return value;
}

bool WriteAttribute(const std::string& path, const std::string& value, ErrnoError* err) {
  UniqueFd fd(OpenRetry(path, O_WRONLY));
  if (!fd.Valid()) {
    *err = ErrnoError{errno, "open", path};
    return false;
  }
  ssize_t n = WriteRetry(fd.Get(), value.data(), value.size());
  if (n < 0) {
    *err = ErrnoError{errno, "write", path};
    return false;
  }
  if (static_cast<size_t>(n) != value.size()) {
    *err = ErrnoError{EIO, "write", path};
    return false;
  }
  return true;
}

bool ListDirectory(const std::string& path, size_t max_entries, std::vector<std::string>* names,
                   bool* truncated, ErrnoError* err) {
  UniqueFd fd(OpenRetry(path, O_RDONLY | O_DIRECTORY));
  if (!fd.Valid()) {
    if (errno == ENOENT) return true;
    *err = ErrnoError{errno, "open", path};
    return false;
  }
  DIR* dir = ::fdopendir(fd.Get());
  if (dir == nullptr) {
    *err = ErrnoError{errno, "fdopendir", path};
    return false;
  }
  fd.Release();  // closedir() owns the descriptor from here on
  errno = 0;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string name(entry->d_name);
    if (name == "." || name == "..") continue;
    if (names->size() >= max_entries) {
      *truncated = true;
      break;
    }
    names->push_back(std::move(name));
  }
  ::closedir(dir);
  return true;
}

}  // namespace rds_nvme
