#include "errno_error.h"

#include <errno.h>
#include <string.h>

namespace rds_nvme {

namespace {

struct ErrnoEntry {
  int value;
  const char* name;
};

// The errors the kernel's fabrics and sysfs interfaces are known to return, plus the
// usual file-system ones; anything else is reported as UNKNOWN with its number.
constexpr ErrnoEntry kErrnoNames[] = {
    {EPERM, "EPERM"},
    {ENOENT, "ENOENT"},
    {EINTR, "EINTR"},
    {EIO, "EIO"},
    {ENXIO, "ENXIO"},
    {E2BIG, "E2BIG"},
    {EBADF, "EBADF"},
    {EAGAIN, "EAGAIN"},
    {ENOMEM, "ENOMEM"},
    {EACCES, "EACCES"},
    {EFAULT, "EFAULT"},
    {EBUSY, "EBUSY"},
    {EEXIST, "EEXIST"},
    {ENODEV, "ENODEV"},
    {ENOTDIR, "ENOTDIR"},
    {EISDIR, "EISDIR"},
    {EINVAL, "EINVAL"},
    {ENFILE, "ENFILE"},
    {EMFILE, "EMFILE"},
    {EFBIG, "EFBIG"},
    {ENOSPC, "ENOSPC"},
    {EROFS, "EROFS"},
    {EPIPE, "EPIPE"},
    {ERANGE, "ERANGE"},
    {ENAMETOOLONG, "ENAMETOOLONG"},
    {ELOOP, "ELOOP"},
    {EPROTO, "EPROTO"},
    {EOPNOTSUPP, "EOPNOTSUPP"},
    {EAFNOSUPPORT, "EAFNOSUPPORT"},
    {EADDRINUSE, "EADDRINUSE"},
    {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
    {ENETDOWN, "ENETDOWN"},
    {ENETUNREACH, "ENETUNREACH"},
    {ECONNABORTED, "ECONNABORTED"},
    {ECONNRESET, "ECONNRESET"},
    {ETIMEDOUT, "ETIMEDOUT"},
    {ECONNREFUSED, "ECONNREFUSED"},
    {EHOSTDOWN, "EHOSTDOWN"},
    {EHOSTUNREACH, "EHOSTUNREACH"},
    {EALREADY, "EALREADY"},
    {EINPROGRESS, "EINPROGRESS"},
    {ENOTCONN, "ENOTCONN"},
    {ECANCELED, "ECANCELED"},
    {ENOTTY, "ENOTTY"},
    {ENOSYS, "ENOSYS"},
    {ENOTBLK, "ENOTBLK"},
    {ENOEXEC, "ENOEXEC"},
    {ECHILD, "ECHILD"},
    {ENOTEMPTY, "ENOTEMPTY"},
    {ESTALE, "ESTALE"},
    {EUCLEAN, "EUCLEAN"},
    {EMEDIUMTYPE, "EMEDIUMTYPE"},
};

}  // namespace

const char* ErrnoName(int errnum) {
  for (const ErrnoEntry& entry : kErrnoNames) {
    if (entry.value == errnum) return entry.name;
  }
  return "UNKNOWN";
}

Napi::Error ToJsError(Napi::Env env, const ErrnoError& err) {
  const char* code = ErrnoName(err.errnum);
  char buf[256];
  // GNU strerror_r returns the message pointer (which may or may not be buf).
  const char* text = strerror_r(err.errnum, buf, sizeof(buf));
  std::string message = std::string(code) + ": " + text + ", " + err.syscall;
  if (!err.path.empty()) message += " '" + err.path + "'";
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object obj = error.Value();
  obj.Set("code", Napi::String::New(env, code));
  obj.Set("errno", Napi::Number::New(env, err.errnum));
  obj.Set("syscall", Napi::String::New(env, err.syscall));
  obj.Set("path", Napi::String::New(env, err.path));
  return error;
}

}  // namespace rds_nvme
