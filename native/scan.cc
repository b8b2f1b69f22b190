#include "scan.h"

#include <errno.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "promise_worker.h"
#include "sysfs_io.h"

namespace rds_nvme {

namespace {

// Bounds that keep one scan a fixed amount of work whatever the machine holds.
constexpr size_t kMaxControllers = 1024;
constexpr size_t kMaxSubsystems = 1024;
constexpr size_t kMaxEntriesPerDir = 4096;

using Attr = std::optional<std::string>;
using AttrList = std::vector<std::pair<const char*, Attr>>;

// (JS property name, sysfs file name, read by a brief scan). A brief scan reads only what
// finds and judges a subsystem's controllers and devices (controller state and subsysnqn,
// namespace nsid and hidden flag, subsystem subsysnqn): enough for a device wait, a detach
// and the connections gauge; the other attributes come back null.
struct AttrSpec {
  const char* key;
  const char* file;
  bool brief;
};

constexpr AttrSpec kControllerAttrs[] = {
    {"state", "state", true},
    {"transport", "transport", false},
    {"address", "address", false},
    {"subsysnqn", "subsysnqn", true},
    {"hostnqn", "hostnqn", false},
    {"hostid", "hostid", false},
    {"cntlid", "cntlid", false},
    {"ctrlLossTmo", "ctrl_loss_tmo", false},
    {"reconnectDelay", "reconnect_delay", false},
    {"fastIoFailTmo", "fast_io_fail_tmo", false},
    {"kato", "kato", false},
};

// A brief scan reads no `hidden`: only per-path entries (nvme<S>c<C>n<N>) are hidden, and
// their names say so (TypeScript derives it when the attribute is null); nor the nsid of a
// per-path entry, which nothing looks up.
constexpr AttrSpec kNamespaceAttrs[] = {
    {"nsid", "nsid", true},    {"size", "size", false}, {"uuid", "uuid", false},
    {"nguid", "nguid", false}, {"wwid", "wwid", false}, {"hidden", "hidden", false},
    {"dev", "dev", false},
};

bool AllDigits(const std::string& s, size_t from, size_t to) {
  if (from >= to) return false;
  for (size_t i = from; i < to; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// "<prefix><digits>"
bool IsNumbered(const std::string& name, const std::string& prefix) {
  return name.compare(0, prefix.size(), prefix) == 0 && AllDigits(name, prefix.size(), name.size());
}

// nvme<d>n<d> (a head or a single-path namespace) or nvme<d>c<d>n<d> (a per-path node);
// partitions (…p<d>) and generic char devices (ng…) are not namespaces.
bool IsNamespaceName(const std::string& name) {
  if (name.compare(0, 4, "nvme") != 0) return false;
  size_t i = 4;
  size_t start = i;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
  if (i == start || i >= name.size()) return false;
  if (name[i] == 'c') {
    start = ++i;
    while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
    if (i == start || i >= name.size()) return false;
  }
  if (name[i] != 'n') return false;
  return AllDigits(name, i + 1, name.size());
}

// S of a per-path name nvme<S>c<C>n<N>; -1 for any other name.
long PathSubsystem(const std::string& name) {
  if (!IsNamespaceName(name)) return -1;
  size_t c = name.find('c', 4);
  if (c == std::string::npos) return -1;
  return std::strtol(name.c_str() + 4, nullptr, 10);
}

struct Namespace {
  std::string name;
  std::string parent;
  AttrList attrs;
};

struct Controller {
  std::string name;
  AttrList attrs;
};

struct Subsystem {
  std::string name;
  Attr subsysnqn;
  Attr iopolicy;
  std::vector<std::string> members;
};

Napi::Value AttrValue(Napi::Env env, const Attr& attr) {
  if (!attr) return env.Null();
  return Napi::String::New(env, *attr);
}

void SetAttrs(Napi::Env env, Napi::Object obj, const AttrList& attrs) {
  for (const auto& [key, value] : attrs) obj.Set(key, AttrValue(env, value));
}

bool Exists(const std::string& path) {
  int rc;
  do {
    rc = ::access(path.c_str(), F_OK);
  } while (rc < 0 && errno == EINTR);
  return rc == 0;
}

}  // namespace

// Either every controller and subsystem (`only` empty), or one controller `nvme<N>` with
// the subsystem that lists it as a member: a fixed amount of work however many volumes
// the node holds.
class ScanState {
 public:
  ScanState(std::string root, std::optional<uint32_t> only, bool brief,
            std::optional<std::string> dev_root)
      : root_(std::move(root)), dev_root_(std::move(dev_root)), brief_(brief) {
    if (only) only_ = "nvme" + std::to_string(*only);
  }

  bool Take(ErrnoError* err) {
    if (ScanControllers()) ScanSubsystems();
    *err = error_;
    return !error_.Failed();
  }

  Napi::Value ToJs(Napi::Env env) const {
    Napi::Object out = Napi::Object::New(env);
    Napi::Array controllers = Napi::Array::New(env, controllers_.size());
    for (size_t i = 0; i < controllers_.size(); ++i) {
      Napi::Object c = Napi::Object::New(env);
      c.Set("name", controllers_[i].name);
      SetAttrs(env, c, controllers_[i].attrs);
      controllers.Set(i, c);
    }
    Napi::Array subsystems = Napi::Array::New(env, subsystems_.size());
    for (size_t i = 0; i < subsystems_.size(); ++i) {
      const Subsystem& s = subsystems_[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", s.name);
      o.Set("subsysnqn", AttrValue(env, s.subsysnqn));
      o.Set("iopolicy", AttrValue(env, s.iopolicy));
      Napi::Array members = Napi::Array::New(env, s.members.size());
      for (size_t j = 0; j < s.members.size(); ++j) members.Set(j, s.members[j]);
      o.Set("members", members);
      subsystems.Set(i, o);
    }
    Napi::Array namespaces = Napi::Array::New(env, namespaces_.size());
    for (size_t i = 0; i < namespaces_.size(); ++i) {
      Napi::Object n = Napi::Object::New(env);
      n.Set("name", namespaces_[i].name);
      n.Set("parent", namespaces_[i].parent);
      SetAttrs(env, n, namespaces_[i].attrs);
      namespaces.Set(i, n);
    }
    out.Set("controllers", controllers);
    out.Set("subsystems", subsystems);
    out.Set("namespaces", namespaces);
    out.Set("truncated", Napi::Boolean::New(env, truncated_));
    return out;
  }

 private:
  Attr Read(const std::string& path, const AttrSpec& spec) const {
    if (brief_ && !spec.brief) return std::nullopt;
    return ReadAttribute(path);
  }

  bool List(const std::string& dir, size_t max, std::vector<std::string>* names) {
    return ListDirectory(dir, max, names, &truncated_, &error_);
  }

  // Namespaces directly under `dir` (a controller or subsystem directory).
  void CollectNamespaces(const std::string& dir, const std::string& parent,
                         const std::vector<std::string>& entries) {
    for (const std::string& entry : entries) {
      if (!IsNamespaceName(entry)) continue;
      Namespace ns{entry, parent, {}};
      const bool per_path = PathSubsystem(entry) >= 0;
      for (const AttrSpec& a : kNamespaceAttrs) {
        if (brief_ && per_path) {
          ns.attrs.emplace_back(a.key, std::nullopt);
          continue;
        }
        ns.attrs.emplace_back(a.key, Read(dir + "/" + entry + "/" + a.file, a));
      }
      if (dev_root_) {
        // A per-path entry (nvme<S>c<C>n<N>) never has a node; a visible one may not yet.
        Attr node;
        if (!per_path) node = Exists(*dev_root_ + "/" + entry) ? "1" : "0";
        ns.attrs.emplace_back("devNode", std::move(node));
      }
      namespaces_.push_back(std::move(ns));
    }
  }

  bool ScanControllers() {
    const std::string base = root_ + "/class/nvme";
    std::vector<std::string> names;
    if (!only_.empty()) {
      // A controller removed before the lookup is simply absent, as in a full scan.
      if (Exists(base + "/" + only_)) names.push_back(only_);
    } else if (!List(base, kMaxControllers, &names)) {
      return false;
    }
    for (const std::string& name : names) {
      if (!IsNumbered(name, "nvme")) continue;
      const std::string dir = base + "/" + name;
      Controller ctrl{name, {}};
      for (const AttrSpec& a : kControllerAttrs) {
        ctrl.attrs.emplace_back(a.key, Read(dir + "/" + a.file, a));
      }
      controllers_.push_back(std::move(ctrl));
      std::vector<std::string> entries;
      // A controller removed since the listing just has no namespaces.
      ErrnoError ignored;
      ListDirectory(dir, kMaxEntriesPerDir, &entries, &truncated_, &ignored);
      CollectNamespaces(dir, name, entries);
    }
    return true;
  }

  // The subsystem of controller `only_`, straight from a per-path namespace's name
  // (nvme<S>c<C>n<N> lives in nvme-subsys<S>) when the controller has one: one check
  // instead of one per subsystem on the node. Empty when unknown.
  std::string KnownSubsystem() const {
    for (const Namespace& ns : namespaces_) {
      if (ns.parent != only_) continue;
      long s = PathSubsystem(ns.name);
      if (s >= 0) return "nvme-subsys" + std::to_string(s);
    }
    return {};
  }

  bool ScanSubsystems() {
    const std::string base = root_ + "/class/nvme-subsystem";
    std::vector<std::string> names;
    std::string known = only_.empty() ? std::string() : KnownSubsystem();
    if (!known.empty() && Exists(base + "/" + known + "/" + only_)) {
      names.push_back(known);
    } else if (!List(base, kMaxSubsystems, &names)) {
      return false;
    }
    for (const std::string& name : names) {
      if (!IsNumbered(name, "nvme-subsys")) continue;
      const std::string dir = base + "/" + name;
      // The subsystem directory holds a link named after each member controller.
      if (!only_.empty() && !Exists(dir + "/" + only_)) continue;
      Subsystem subsys{name,
                       ReadAttribute(dir + "/subsysnqn"),
                       brief_ ? std::nullopt : ReadAttribute(dir + "/iopolicy"),
                       {}};
      std::vector<std::string> entries;
      ErrnoError ignored;
      ListDirectory(dir, kMaxEntriesPerDir, &entries, &truncated_, &ignored);
      for (const std::string& entry : entries) {
        if (IsNumbered(entry, "nvme")) subsys.members.push_back(entry);
      }
      subsystems_.push_back(std::move(subsys));
      CollectNamespaces(dir, name, entries);
      if (!only_.empty()) break;
    }
    return true;
  }

  std::string root_;
  std::string only_;
  std::optional<std::string> dev_root_;
  bool brief_;
  std::vector<Controller> controllers_;
  std::vector<Subsystem> subsystems_;
  std::vector<Namespace> namespaces_;
  bool truncated_ = false;
  ErrnoError error_;
};

SysfsSnapshot::SysfsSnapshot(std::string root, std::optional<uint32_t> only, bool brief,
                             std::optional<std::string> dev_root)
    : state_(std::make_unique<ScanState>(std::move(root), only, brief, std::move(dev_root))) {}

SysfsSnapshot::~SysfsSnapshot() = default;

bool SysfsSnapshot::Take(ErrnoError* err) { return state_->Take(err); }

Napi::Value SysfsSnapshot::ToJs(Napi::Env env) const { return state_->ToJs(env); }

namespace {

class ScanWorker : public PromiseWorker {
 public:
  ScanWorker(Napi::Env env, const char* name, std::string root, std::optional<uint32_t> only,
             bool brief)
      : PromiseWorker(env, name), snapshot_(std::move(root), only, brief) {}

 protected:
  void Execute() override { snapshot_.Take(&error_); }
  Napi::Value Result(Napi::Env env) override { return snapshot_.ToJs(env); }

 private:
  SysfsSnapshot snapshot_;
};

}  // namespace

Napi::Value Scan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string root;
  if (!PathOption(info, 0, "sysfsRoot", &root)) return env.Undefined();
  Napi::Value brief = info[0].As<Napi::Object>().Get("brief");
  if (!brief.IsUndefined() && !brief.IsBoolean()) {
    Napi::TypeError::New(env, "option brief must be a boolean").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return PromiseWorker::Start(new ScanWorker(env, "rds_nvme.scan", std::move(root), std::nullopt,
                                             brief.IsBoolean() && brief.As<Napi::Boolean>()));
}

Napi::Value ScanController(const Napi::CallbackInfo& info) {
  uint32_t instance = 0;
  std::string root;
  if (!InstanceArg(info, 0, &instance)) return info.Env().Undefined();
  if (!PathOption(info, 1, "sysfsRoot", &root)) return info.Env().Undefined();
  return PromiseWorker::Start(
      new ScanWorker(info.Env(), "rds_nvme.scanController", std::move(root), instance, true));
}

}  // namespace rds_nvme
