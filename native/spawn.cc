#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "promise_worker.h"
#include "sysfs_io.h"
#include "unique_fd.h"

namespace rds_nvme {

namespace {

constexpr size_t kMaxArgs = 256;
constexpr size_t kMaxArgBytes = 4096;
constexpr size_t kMaxOutputBytes = 64 * 1024;
constexpr double kMaxTimeoutMs = 24.0 * 3600 * 1000;

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

struct SpawnActions {
  posix_spawn_file_actions_t actions;
  bool ok;
  SpawnActions() : ok(posix_spawn_file_actions_init(&actions) == 0) {}
  ~SpawnActions() {
    if (ok) posix_spawn_file_actions_destroy(&actions);
  }
};

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(&s[0]);
  out.push_back(nullptr);
  return out;
}

class RunWorker : public PromiseWorker {
 public:
  RunWorker(Napi::Env env, std::string file, std::vector<std::string> argv,
            std::vector<std::string> envp, int64_t timeout_ms)
      : PromiseWorker(env, "rds_nvme.run"),
        file_(std::move(file)),
        argv_(std::move(argv)),
        env_(std::move(envp)),
        timeout_ms_(timeout_ms) {}

 protected:
  void Execute() override {
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) return Fail(errno, "pipe2");
    UniqueFd out_r(out_pipe[0]);
    UniqueFd out_w(out_pipe[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) return Fail(errno, "pipe2");
    UniqueFd err_r(err_pipe[0]);
    UniqueFd err_w(err_pipe[1]);
    SpawnActions fa;
    if (!fa.ok) return Fail(ENOMEM, "posix_spawn_file_actions_init");
    // dup2 clears O_CLOEXEC on the child's 1 and 2; every other descriptor of this process
    // is O_CLOEXEC (libuv and Node open everything so) and does not reach the child.
    if (posix_spawn_file_actions_addopen(&fa.actions, 0, "/dev/null", O_RDONLY, 0) != 0 ||
        posix_spawn_file_actions_adddup2(&fa.actions, out_w.Get(), 1) != 0 ||
        posix_spawn_file_actions_adddup2(&fa.actions, err_w.Get(), 2) != 0) {
      return Fail(ENOMEM, "posix_spawn_file_actions");
    }
    std::vector<char*> argv = CStrings(argv_);
    std::vector<char*> envp = CStrings(env_);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, file_.c_str(), &fa.actions, nullptr, argv.data(), envp.data());
    if (rc != 0) return Fail(rc, "posix_spawn");
    out_w.Reset();
    err_w.Reset();
    Collect(out_r.Get(), err_r.Get(), pid);
    int status = 0;
    pid_t waited;
    do {
      waited = ::waitpid(pid, &status, 0);
    } while (waited < 0 && errno == EINTR);
    if (waited < 0) return Fail(errno, "waitpid");
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    signal_ = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("code", Napi::Number::New(env, code_));
    out.Set("signal", Napi::Number::New(env, signal_));
    out.Set("timedOut", Napi::Boolean::New(env, timed_out_));
    out.Set("stdout", Napi::String::New(env, stdout_));
    out.Set("stderr", Napi::String::New(env, stderr_));
    return out;
  }

 private:
  void Fail(int errnum, const char* syscall) { error_ = ErrnoError{errnum, syscall, file_}; }

  // Reads both pipes until the child closes them; kills it (SIGKILL) past the deadline.
  void Collect(int out_fd, int err_fd, pid_t pid) {
    const int64_t deadline = NowMs() + timeout_ms_;
    struct pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    std::string* sinks[2] = {&stdout_, &stderr_};
    int open_count = 2;
    while (open_count > 0) {
      int64_t left = deadline - NowMs();
      if (left <= 0 && !timed_out_) {
        timed_out_ = true;
        ::kill(pid, SIGKILL);
      }
      int n = ::poll(fds, 2, timed_out_ ? -1 : static_cast<int>(left > 1000 ? 1000 : left));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        char buf[4096];
        ssize_t got = ReadRetry(fds[i].fd, buf, sizeof(buf));
        if (got <= 0) {
          fds[i].fd = -1;
          --open_count;
        } else if (sinks[i]->size() < kMaxOutputBytes) {
          sinks[i]->append(buf, static_cast<size_t>(got));
        }
      }
    }
  }

  std::string file_;
  std::vector<std::string> argv_;
  std::vector<std::string> env_;
  int64_t timeout_ms_;
  int code_ = -1;
  int signal_ = 0;
  bool timed_out_ = false;
  std::string stdout_;
  std::string stderr_;
};

bool Fail(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return false;
}

bool StringList(Napi::Env env, Napi::Value value, size_t min, std::vector<std::string>* out) {
  if (!value.IsArray()) return Fail(env, "argv and env must be arrays of strings");
  Napi::Array list = value.As<Napi::Array>();
  if (list.Length() < min || list.Length() > kMaxArgs) return Fail(env, "too few or many items");
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value v = list.Get(i);
    if (!v.IsString()) return Fail(env, "argv and env must be arrays of strings");
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.size() > kMaxArgBytes || s.find('\0') != std::string::npos) {
      return Fail(env, "argument too long or contains NUL");
    }
    out->push_back(std::move(s));
  }
  return true;
}

}  // namespace

Napi::Value Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string file;
  std::vector<std::string> argv;
  std::vector<std::string> envp;
  if (!AbsolutePathArg(info, 0, &file)) return env.Undefined();
  if (info.Length() < 3 || !info[2].IsObject()) {
    Fail(env, "argument 2 must be {env, timeoutMs}");
    return env.Undefined();
  }
  Napi::Object opts = info[2].As<Napi::Object>();
  if (!StringList(env, info[1], 1, &argv)) return env.Undefined();
  if (!StringList(env, opts.Get("env"), 0, &envp)) return env.Undefined();
  Napi::Value timeout = opts.Get("timeoutMs");
  double ms = timeout.IsNumber() ? timeout.As<Napi::Number>().DoubleValue() : -1;
  if (!std::isfinite(ms) || ms < 1 || ms > kMaxTimeoutMs) {
    Fail(env, "timeoutMs must be a number in [1, 86400000]");
    return env.Undefined();
  }
  return PromiseWorker::Start(new RunWorker(env, std::move(file), std::move(argv), std::move(envp),
                                            static_cast<int64_t>(ms)));
}

}  // namespace rds_nvme
