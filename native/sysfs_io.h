// Bounded file primitives for sysfs: every call is a fixed number of syscalls with EINTR
// retried, descriptors opened O_CLOEXEC and held by UniqueFd. Called only from workers.
#ifndef RDS_NVME_SYSFS_IO_H_
#define RDS_NVME_SYSFS_IO_H_

#include <optional>
#include <string>
#include <vector>

#include "errno_error.h"

namespace rds_nvme {

// Largest attribute value read (sysfs attributes are at most one page).
constexpr size_t kMaxAttributeBytes = 4096;

// Reads a small attribute file, trailing whitespace trimmed. Any failure (the attribute
// does not exist, or the object vanished mid-scan) yields nullopt: a snapshot records
// what it could see and never fails on one attribute.
std::optional<std::string> ReadAttribute(const std::string& path);

// Writes `value` in one write() to an existing attribute file (O_WRONLY, no create).
// Returns false with `err` filled on failure.
bool WriteAttribute(const std::string& path, const std::string& value, ErrnoError* err);

// Entry names of a directory ('.' and '..' excluded), at most `max_entries`; sets
// `*truncated` when more existed. A missing directory is an empty list; other failures
// return false with `err` filled.
bool ListDirectory(const std::string& path, size_t max_entries, std::vector<std::string>* names,
                   bool* truncated, ErrnoError* err);

// write() retrying EINTR; returns bytes written or -1 with errno set.
ssize_t WriteRetry(int fd, const char* data, size_t len);

// read() retrying EINTR; returns bytes read or -1 with errno set.
ssize_t ReadRetry(int fd, char* data, size_t len);

// open() retrying EINTR, always with O_CLOEXEC.
int OpenRetry(const std::string& path, int flags);

}  // namespace rds_nvme

#endif  // RDS_NVME_SYSFS_IO_H_
