#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <string>
#include <utility>

#include "args.h"
#include "promise_worker.h"
#include "sysfs_io.h"
#include "unique_fd.h"

namespace rds_nvme {

namespace {

// The largest file readFile() accepts: state files are a few KiB.
constexpr double kMaxFileBytes = 1 << 20;

class ReadFileWorker : public PromiseWorker {
 public:
  ReadFileWorker(Napi::Env env, std::string path, size_t max_bytes)
      : PromiseWorker(env, "rds_nvme.readFile"), path_(std::move(path)), max_bytes_(max_bytes) {}

 protected:
  void Execute() override {
    UniqueFd fd(OpenRetry(path_, O_RDONLY | O_NOCTTY | O_NONBLOCK));
    if (!fd.Valid() && errno == ENOENT) {
      missing_ = true;
      return;
    }
    if (!fd.Valid()) return Fail(errno, "open");
    struct stat st;
    if (::fstat(fd.Get(), &st) != 0) return Fail(errno, "fstat");
    if (S_ISDIR(st.st_mode)) return Fail(EISDIR, "read");
    if (!S_ISREG(st.st_mode)) return Fail(EINVAL, "read");
    // One byte more than allowed tells a file that is too long from one that fits.
    text_.resize(max_bytes_ + 1);
    size_t got = 0;
    while (got < text_.size()) {
      ssize_t n = ReadRetry(fd.Get(), text_.data() + got, text_.size() - got);
      if (n < 0) return Fail(errno, "read");
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    if (got > max_bytes_) return Fail(EFBIG, "read");
    text_.resize(got);
  }

  Napi::Value Result(Napi::Env env) override {
    if (missing_) return env.Null();
    return Napi::String::New(env, text_);
  }

 private:
  void Fail(int errnum, const char* syscall) { error_ = ErrnoError{errnum, syscall, path_}; }

  std::string path_;
  size_t max_bytes_;
  std::string text_;
  bool missing_ = false;
};

}  // namespace

Napi::Value ReadFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (!AbsolutePathArg(info, 0, &path)) return env.Undefined();
  if (!info[1].IsObject()) {
    Napi::TypeError::New(env, "options must be an object").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Value max = info[1].As<Napi::Object>().Get("maxBytes");
  if (!max.IsNumber()) {
    Napi::TypeError::New(env, "option maxBytes must be a number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  double bytes = max.As<Napi::Number>().DoubleValue();
  if (!(bytes >= 1 && bytes <= kMaxFileBytes) ||
      bytes != static_cast<double>(static_cast<size_t>(bytes))) {
    Napi::TypeError::New(env, "option maxBytes must be an integer in [1, 1048576]")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return PromiseWorker::Start(new ReadFileWorker(env, std::move(path), static_cast<size_t>(bytes)));
}

}  // namespace rds_nvme
