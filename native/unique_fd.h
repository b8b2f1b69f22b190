// RAII holder for a file descriptor: closes it exactly once, on every path out of a scope.
#ifndef RDS_NVME_UNIQUE_FD_H_
#define RDS_NVME_UNIQUE_FD_H_

#include <unistd.h>

namespace rds_nvme {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  ~UniqueFd() { Reset(); }

  int Get() const { return fd_; }
  bool Valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // close() is not retried on EINTR: on Linux the descriptor is released either way.
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace rds_nvme

#endif  // RDS_NVME_UNIQUE_FD_H_
