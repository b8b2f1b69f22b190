#include "mount.h"

#include <errno.h>
#include <sys/mount.h>

#include <cmath>
#include <string>
#include <utility>

#include "args.h"
#include "promise_worker.h"

namespace rds_nvme {

namespace {

// The kernel copies at most one page of mount data.
constexpr size_t kMaxDataBytes = 4095;
constexpr size_t kMaxFsTypeBytes = 64;

class MountWorker : public PromiseWorker {
 public:
  MountWorker(Napi::Env env, std::string source, std::string target, std::string fstype,
              unsigned long flags, std::string data)
      : PromiseWorker(env, "rds_nvme.mount"),
        source_(std::move(source)),
        target_(std::move(target)),
        fstype_(std::move(fstype)),
        flags_(flags),
        data_(std::move(data)) {}

 protected:
  // mount(2) is not restarted after a signal on every kernel path; EINTR is retried here
  // because no mount this driver makes has a partial effect that a retry would repeat.
  void Execute() override {
    int rc;
    do {
      rc = ::mount(source_.c_str(), target_.c_str(), fstype_.empty() ? nullptr : fstype_.c_str(),
                   flags_, data_.empty() ? nullptr : data_.c_str());
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) error_ = ErrnoError{errno, "mount", target_};
  }

 private:
  std::string source_;
  std::string target_;
  std::string fstype_;
  unsigned long flags_;
  std::string data_;
};

class UmountWorker : public PromiseWorker {
 public:
  UmountWorker(Napi::Env env, std::string target, int flags)
      : PromiseWorker(env, "rds_nvme.umount"), target_(std::move(target)), flags_(flags) {}

 protected:
  void Execute() override {
    int rc;
    do {
      rc = ::umount2(target_.c_str(), flags_);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) error_ = ErrnoError{errno, "umount2", target_};
  }

 private:
  std::string target_;
  int flags_;
};

bool Fail(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return false;
}

// An optional string (undefined, null or "" all mean none) of at most max_len bytes.
bool OptionalString(const Napi::CallbackInfo& info, size_t index, size_t max_len,
                    std::string* out) {
  if (info.Length() <= index || info[index].IsUndefined() || info[index].IsNull()) return true;
  if (!info[index].IsString()) return Fail(info.Env(), "fstype and data must be strings or null");
  std::string value = info[index].As<Napi::String>().Utf8Value();
  if (value.size() > max_len || value.find('\0') != std::string::npos) {
    return Fail(info.Env(), "fstype or data too long or contains NUL");
  }
  *out = std::move(value);
  return true;
}

// Mount flags: a non-negative integer below 2^32 (every MS_* flag fits).
bool FlagsArg(const Napi::CallbackInfo& info, size_t index, double max, double* out) {
  if (info.Length() <= index || !info[index].IsNumber()) {
    return Fail(info.Env(), "flags must be a number");
  }
  double v = info[index].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v) || v < 0 || v > max || std::floor(v) != v) {
    return Fail(info.Env(), "flags out of range");
  }
  *out = v;
  return true;
}

}  // namespace

Napi::Value Mount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string source;
  std::string target;
  std::string fstype;
  std::string data;
  double flags = 0;
  if (!StringArg(info, 0, kMaxPathBytes, &source)) return env.Undefined();
  if (!AbsolutePathArg(info, 1, &target)) return env.Undefined();
  if (!OptionalString(info, 2, kMaxFsTypeBytes, &fstype)) return env.Undefined();
  if (!FlagsArg(info, 3, 4294967295.0, &flags)) return env.Undefined();
  if (!OptionalString(info, 4, kMaxDataBytes, &data)) return env.Undefined();
  return PromiseWorker::Start(new MountWorker(env, std::move(source), std::move(target),
                                              std::move(fstype), static_cast<unsigned long>(flags),
                                              std::move(data)));
}

Napi::Value Umount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string target;
  double flags = 0;
  if (!AbsolutePathArg(info, 0, &target)) return env.Undefined();
  if (!FlagsArg(info, 1, 0xff, &flags)) return env.Undefined();
  return PromiseWorker::Start(new UmountWorker(env, std::move(target), static_cast<int>(flags)));
}

}  // namespace rds_nvme
