// A failed syscall as data: errno, the syscall name and the path it acted on. Workers record
// one of these on the libuv pool; it becomes a JS Error (code/errno/syscall/path) on the JS
// thread, shaped like Node's own fs errors so TypeScript can switch on `code`.
#ifndef RDS_NVME_ERRNO_ERROR_H_
#define RDS_NVME_ERRNO_ERROR_H_

#include <napi.h>

#include <string>

namespace rds_nvme {

struct ErrnoError {
  int errnum = 0;
  std::string syscall;
  std::string path;

  bool Failed() const { return errnum != 0; }
};

// Symbolic name of an errno value ("EALREADY"), or "UNKNOWN" for values not in the table.
const char* ErrnoName(int errnum);

// Builds the JS Error: message "<CODE>: <strerror>, <syscall> '<path>'", plus properties
// code (string), errno (positive number, as in os.constants.errno), syscall and path.
Napi::Error ToJsError(Napi::Env env, const ErrnoError& err);

}  // namespace rds_nvme

#endif  // RDS_NVME_ERRNO_ERROR_H_
