#include "openers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "promise_worker.h"
#include "sysfs_io.h"
#include "unique_fd.h"

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
  void Execute() override { WalkOpeners(proc_, paths_, &found_, &error_); }

  Napi::Value Result(Napi::Env env) override { return OpenersArray(env, found_); }

 private:
  std::set<std::string> paths_;
  std::string proc_;
  OpenerList found_;
};

}  // namespace

bool WalkOpeners(const std::string& proc, const std::set<std::string>& paths, OpenerList* found,
                 ErrnoError* err) {
  std::vector<std::string> pids;
  bool truncated = false;
  if (!ListDirectory(proc, kMaxProcesses, &pids, &truncated, err)) return false;
  if (pids.empty()) return true;
  // Paths relative to <proc> and to each fd directory: the kernel resolves one component
  // per call instead of walking /proc/<pid>/fd/<n> from the root every time.
  UniqueFd proc_fd(OpenRetry(proc, O_RDONLY | O_DIRECTORY));
  if (!proc_fd.Valid()) return true;  // gone since the listing: nothing holds anything
  for (const std::string& pid : pids) {
    if (!IsPid(pid)) continue;
    int fd_dir;
    do {
      fd_dir = ::openat(proc_fd.Get(), (pid + "/fd").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } while (fd_dir < 0 && errno == EINTR);
    if (fd_dir < 0) continue;  // processes exit and deny access mid-walk; skip them
    DIR* dir = ::fdopendir(fd_dir);
    if (dir == nullptr) {
      ::close(fd_dir);
      continue;
    }
    size_t seen = 0;
    while (struct dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] == '.' || ++seen > kMaxFdsPerProcess) continue;
      char target[kMaxPathBytes + 1];
      ssize_t n = ::readlinkat(::dirfd(dir), entry->d_name, target, kMaxPathBytes);
      if (n <= 0) continue;
      std::string path(target, static_cast<size_t>(n));
      if (paths.count(path) != 0) found->emplace_back(std::stoul(pid), std::move(path));
    }
    ::closedir(dir);
  }
  return true;
}

Napi::Array OpenersArray(Napi::Env env, const OpenerList& found) {
  Napi::Array out = Napi::Array::New(env, found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("pid", Napi::Number::New(env, static_cast<double>(found[i].first)));
    o.Set("path", found[i].second);
    out.Set(i, o);
  }
  return out;
}

Napi::Value FindOpeners(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::string> list;
  if (!StringListArg(info, 0, kMaxPaths, "paths", &list)) return env.Undefined();
  std::set<std::string> paths(list.begin(), list.end());
  std::string proc;
  if (!PathOption(info, 1, "procRoot", &proc)) return env.Undefined();
  return PromiseWorker::Start(new OpenersWorker(env, std::move(paths), std::move(proc)));
}

}  // namespace rds_nvme
