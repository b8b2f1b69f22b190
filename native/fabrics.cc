#include "fabrics.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "args.h"
#include "attributes.h"
#include "promise_worker.h"
#include "scan.h"
#include "sysfs_io.h"
#include "unique_fd.h"

namespace rds_nvme {

namespace {

// The kernel rejects option strings longer than one page.
constexpr size_t kMaxOptionBytes = 4096;

// CLOCK_MONOTONIC in ms, the clock libuv's hrtime (process.hrtime) reads.
double MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// Parses a leading unsigned decimal after `key` at *pos; advances *pos past the digits.
bool ParseField(const std::string& text, const char* key, size_t* pos, long* out) {
  std::string prefix(key);
  if (text.compare(*pos, prefix.size(), prefix) != 0) return false;
  const char* start = text.c_str() + *pos + prefix.size();
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(start, &end, 10);
  if (end == start || errno != 0 || value < 0 || value > 0x7fffffff) return false;
  *pos = static_cast<size_t>(end - text.c_str());
  *out = value;
  return true;
}

class ConnectWorker : public PromiseWorker {
 public:
  ConnectWorker(Napi::Env env, std::string options, std::string path,
                std::optional<std::string> sysfs_root, std::optional<std::string> dev_root)
      : PromiseWorker(env, "rds_nvme.connect"),
        options_(std::move(options)),
        path_(std::move(path)),
        sysfs_root_(std::move(sysfs_root)),
        dev_root_(std::move(dev_root)) {}

 protected:
  void Execute() override {
    started_ms_ = MonotonicMs();
    UniqueFd fd(OpenRetry(path_, O_RDWR));
    if (!fd.Valid()) {
      error_ = ErrnoError{errno, "open", path_};
      return;
    }
    ssize_t written = WriteRetry(fd.Get(), options_.data(), options_.size());
    if (written < 0) {
      error_ = ErrnoError{errno, "write", path_};
      return;
    }
    if (static_cast<size_t>(written) != options_.size()) {
      error_ = ErrnoError{EIO, "write", path_};
      return;
    }
    char buf[256];
    ssize_t n = ReadRetry(fd.Get(), buf, sizeof(buf) - 1);
    if (n < 0) {
      error_ = ErrnoError{errno, "read", path_};
      return;
    }
    std::string reply(buf, static_cast<size_t>(n));
    size_t pos = 0;
    if (!ParseField(reply, "instance=", &pos, &instance_) ||
        !ParseField(reply, ",cntlid=", &pos, &cntlid_)) {
      error_ = ErrnoError{EPROTO, "read", path_};
      return;
    }
    replied_ms_ = MonotonicMs();
    // The first look at the new controller in the same job: by the time the write
    // returns its namespace is usually there, and the attach then needs no second trip
    // through the pool. A lookup that fails leaves the caller to look again; the connect
    // itself succeeded.
    if (sysfs_root_) {
      lookup_.emplace(*sysfs_root_, static_cast<uint32_t>(instance_), true, dev_root_);
      ErrnoError ignored;
      if (!lookup_->Take(&ignored)) lookup_.reset();
    }
    done_ms_ = MonotonicMs();
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("instance", Napi::Number::New(env, static_cast<double>(instance_)));
    result.Set("cntlid", Napi::Number::New(env, static_cast<double>(cntlid_)));
    if (lookup_) result.Set("lookup", lookup_->ToJs(env));
    Napi::Object stamps = Napi::Object::New(env);
    stamps.Set("started", Napi::Number::New(env, started_ms_));
    stamps.Set("replied", Napi::Number::New(env, replied_ms_));
    stamps.Set("done", Napi::Number::New(env, done_ms_));
    result.Set("stamps", stamps);
    return result;
  }

 private:
  std::string options_;
  std::string path_;
  std::optional<std::string> sysfs_root_;
  std::optional<std::string> dev_root_;
  std::optional<SysfsSnapshot> lookup_;
  long instance_ = -1;
  long cntlid_ = -1;
  double started_ms_ = 0;
  double replied_ms_ = 0;
  double done_ms_ = 0;
};

}  // namespace

Napi::Value Connect(const Napi::CallbackInfo& info) {
  std::string options;
  std::string path;
  if (!StringArg(info, 0, kMaxOptionBytes, &options)) return info.Env().Undefined();
  if (!PathOption(info, 1, "fabricsPath", &path)) return info.Env().Undefined();
  std::optional<std::string> sysfs_root;
  std::optional<std::string> dev_root;
  for (auto [key, out] : {std::pair{"sysfsRoot", &sysfs_root}, std::pair{"devRoot", &dev_root}}) {
    if (info[1].As<Napi::Object>().Get(key).IsUndefined()) continue;
    std::string root;
    if (!PathOption(info, 1, key, &root)) return info.Env().Undefined();
    *out = std::move(root);
  }
  return PromiseWorker::Start(new ConnectWorker(info.Env(), std::move(options), std::move(path),
                                                std::move(sysfs_root), std::move(dev_root)));
}

Napi::Value Disconnect(const Napi::CallbackInfo& info) {
  uint32_t instance = 0;
  std::string root;
  if (!InstanceArg(info, 0, &instance)) return info.Env().Undefined();
  if (!PathOption(info, 1, "sysfsRoot", &root)) return info.Env().Undefined();
  return StartAttributeWrite(info.Env(), "rds_nvme.disconnect",
                             ControllerAttributePath(root, instance, "delete_controller"), "1");
}

}  // namespace rds_nvme
