#include "openers.h"

#include <unistd.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "promise_worker.h"
#include "sysfs_io.h"

namespace rds_nvme {

namespace {

constexpr size_t kMaxPaths = 64;
constexpr size_t kMaxProcesses = 1 << 17;
constexpr size_t kMaxFdsPerProcess = 1 << 17;

bool IsPid(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

class OpenersWorker : public PromiseWorker {
 public:
  OpenersWorker(Napi::Env env, std::set<std::string> paths, std::string proc)
      : PromiseWorker(env, "rds_nvme.findOpeners"),
        paths_(std::move(paths)),
        proc_(std::move(proc)) {}

 protected:
  void Execute() override {
    std::vector<std::string> pids;
    bool truncated = false;
    if (!ListDirectory(proc_, kMaxProcesses, &pids, &truncated, &error_)) return;
    for (const std::string& pid : pids) {
      if (!IsPid(pid)) continue;
      const std::string dir = proc_ + "/" + pid + "/fd";
      std::vector<std::string> fds;
      ErrnoError ignored;  // processes exit and deny access mid-walk; skip them
      ListDirectory(dir, kMaxFdsPerProcess, &fds, &truncated, &ignored);
      for (const std::string& fd : fds) {
        char target[kMaxPathBytes + 1];
        const std::string link = dir + "/" + fd;
        ssize_t n = ::readlink(link.c_str(), target, kMaxPathBytes);
        if (n <= 0) continue;
        std::string path(target, static_cast<size_t>(n));
        if (paths_.count(path) != 0) found_.emplace_back(std::stoul(pid), std::move(path));
      }
    }
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Array out = Napi::Array::New(env, found_.size());
    for (size_t i = 0; i < found_.size(); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("pid", Napi::Number::New(env, static_cast<double>(found_[i].first)));
      o.Set("path", found_[i].second);
      out.Set(i, o);
    }
    return out;
  }

 private:
  std::set<std::string> paths_;
  std::string proc_;
  std::vector<std::pair<unsigned long, std::string>> found_;
};

}  // namespace

Napi::Value FindOpeners(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    Napi::TypeError::New(env, "argument 0 must be an array of paths").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array list = info[0].As<Napi::Array>();
  if (list.Length() > kMaxPaths) {
    Napi::TypeError::New(env, "at most 64 paths").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::set<std::string> paths;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value v = list.Get(i);
    if (!v.IsString()) {
      Napi::TypeError::New(env, "paths must be strings").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    paths.insert(v.As<Napi::String>().Utf8Value());
  }
  std::string proc;
  if (!PathOption(info, 1, "procRoot", &proc)) return env.Undefined();
  return PromiseWorker::Start(new OpenersWorker(env, std::move(paths), std::move(proc)));
}

}  // namespace rds_nvme
