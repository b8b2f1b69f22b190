#include "usage.h"

#include <errno.h>
#include <fcntl.h>

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "openers.h"
#include "promise_worker.h"
#include "sysfs_io.h"
#include "unique_fd.h"

namespace rds_nvme {

namespace {

// The devices of one subsystem: a handful of namespaces.
constexpr size_t kMaxDevices = 64;
// Devices and partitions checked; more is refused (E2BIG), never silently left out.
constexpr size_t kMaxNodes = 4096;
constexpr size_t kMaxEntriesPerDir = 4096;
constexpr size_t kMaxHolders = 256;
// mountinfo of a busy node is a few hundred KiB; anything near this bound is not one.
constexpr size_t kMaxMountinfoBytes = 16 << 20;

struct Node {
  std::string name;
  std::optional<std::string> dev;
  std::vector<std::string> holders;
};

// A kernel block device name: no path separator, not '.' or '..'.
bool IsPlainName(const std::string& name) {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

// The whole of a file (seq_file text such as mountinfo, which reports no size).
bool ReadWhole(const std::string& path, size_t max, std::string* out, ErrnoError* err) {
  UniqueFd fd(OpenRetry(path, O_RDONLY));
  if (!fd.Valid()) {
    *err = ErrnoError{errno, "open", path};
    return false;
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ReadRetry(fd.Get(), buf, sizeof(buf));
    if (n < 0) {
      *err = ErrnoError{errno, "read", path};
      return false;
    }
    if (n == 0) return true;
    if (out->size() + static_cast<size_t>(n) > max) {
      *err = ErrnoError{EFBIG, "read", path};
      return false;
    }
    out->append(buf, static_cast<size_t>(n));
  }
}

class UsageWorker : public PromiseWorker {
 public:
  UsageWorker(Napi::Env env, std::vector<std::string> names, std::string sys, std::string proc)
      : PromiseWorker(env, "rds_nvme.deviceUsage"),
        names_(std::move(names)),
        sys_(std::move(sys)),
        proc_(std::move(proc)) {}

 protected:
  void Execute() override {
    for (const std::string& name : names_) AddDevice(name);
    if (nodes_.size() > kMaxNodes) {
      error_ = ErrnoError{E2BIG, "readdir", sys_ + "/block"};
      return;
    }
    if (!ReadWhole(proc_ + "/self/mountinfo", kMaxMountinfoBytes, &mountinfo_, &error_)) return;
    std::set<std::string> paths;
    for (const Node& node : nodes_) paths.insert("/dev/" + node.name);
    WalkOpeners(proc_, paths, &openers_, &error_);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Array nodes = Napi::Array::New(env, nodes_.size());
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Napi::Object n = Napi::Object::New(env);
      n.Set("name", nodes_[i].name);
      n.Set("dev", nodes_[i].dev ? Napi::String::New(env, *nodes_[i].dev) : env.Null());
      Napi::Array holders = Napi::Array::New(env, nodes_[i].holders.size());
      for (size_t j = 0; j < nodes_[i].holders.size(); ++j) holders.Set(j, nodes_[i].holders[j]);
      n.Set("holders", holders);
      nodes.Set(i, n);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("nodes", nodes);
    out.Set("mountinfo", mountinfo_);
    out.Set("openers", OpenersArray(env, openers_));
    return out;
  }

 private:
  // A vanished device is still listed (dev null, no partitions): its name may yet appear
  // in mountinfo or as an open /dev node.
  void AddDevice(const std::string& name) {
    const std::string base = sys_ + "/block/" + name;
    std::vector<std::string> entries;
    bool truncated = false;
    ErrnoError ignored;
    ListDirectory(base, kMaxEntriesPerDir, &entries, &truncated, &ignored);
    AddNode(name, base);
    for (const std::string& entry : entries) {
      if (entry.compare(0, name.size(), name) != 0) continue;
      if (!ReadAttribute(base + "/" + entry + "/partition")) continue;
      AddNode(entry, base + "/" + entry);
    }
  }

  void AddNode(const std::string& name, const std::string& dir) {
    Node node{name, ReadAttribute(dir + "/dev"), {}};
    bool truncated = false;
    ErrnoError ignored;
    ListDirectory(dir + "/holders", kMaxHolders, &node.holders, &truncated, &ignored);
    nodes_.push_back(std::move(node));
  }

  std::vector<std::string> names_;
  std::string sys_;
  std::string proc_;
  std::vector<Node> nodes_;
  std::string mountinfo_;
  OpenerList openers_;
};

}  // namespace

Napi::Value DeviceUsage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::string> names;
  if (!StringListArg(info, 0, kMaxDevices, "device names", &names)) return env.Undefined();
  for (const std::string& name : names) {
    if (!IsPlainName(name)) {
      Napi::TypeError::New(env, "device names must be plain names such as nvme0n1")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  std::string sys;
  std::string proc;
  if (!PathOption(info, 1, "sysfsRoot", &sys)) return env.Undefined();
  if (!PathOption(info, 1, "procRoot", &proc)) return env.Undefined();
  return PromiseWorker::Start(
      new UsageWorker(env, std::move(names), std::move(sys), std::move(proc)));
}

}  // namespace rds_nvme
