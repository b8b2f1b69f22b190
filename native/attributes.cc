#include "attributes.h"

#include "args.h"
#include "promise_worker.h"
#include "sysfs_io.h"

namespace rds_nvme {

namespace {

constexpr size_t kMaxNameBytes = 64;
constexpr size_t kMaxValueBytes = 256;

class WriteWorker : public PromiseWorker {
 public:
  WriteWorker(Napi::Env env, const char* name, std::string path, std::string value)
      : PromiseWorker(env, name), path_(std::move(path)), value_(std::move(value)) {}

 protected:
  void Execute() override { WriteAttribute(path_, value_, &error_); }

 private:
  std::string path_;
  std::string value_;
};

bool IsPlainName(const std::string& name) {
  if (name[0] == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string ControllerAttributePath(const std::string& sysfs_root, uint32_t instance,
                                    const std::string& name) {
  return sysfs_root + "/class/nvme/nvme" + std::to_string(instance) + "/" + name;
}

Napi::Promise StartAttributeWrite(Napi::Env env, const char* worker_name, std::string path,
                                  std::string value) {
  return PromiseWorker::Start(new WriteWorker(env, worker_name, std::move(path), std::move(value)));
}

Napi::Value SetAttribute(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t instance = 0;
  std::string name;
  std::string value;
  std::string root;
  if (!InstanceArg(info, 0, &instance)) return env.Undefined();
  if (!StringArg(info, 1, kMaxNameBytes, &name)) return env.Undefined();
  if (!IsPlainName(name)) {
    Napi::TypeError::New(env, "attribute name must match [a-z0-9_]+").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!StringArg(info, 2, kMaxValueBytes, &value)) return env.Undefined();
  if (!PathOption(info, 3, "sysfsRoot", &root)) return env.Undefined();
  return StartAttributeWrite(env, "rds_nvme.setAttribute",
                             ControllerAttributePath(root, instance, name), std::move(value));
}

Napi::Value Rescan(const Napi::CallbackInfo& info) {
  uint32_t instance = 0;
  std::string root;
  if (!InstanceArg(info, 0, &instance)) return info.Env().Undefined();
  if (!PathOption(info, 1, "sysfsRoot", &root)) return info.Env().Undefined();
  return StartAttributeWrite(info.Env(), "rds_nvme.rescan",
                             ControllerAttributePath(root, instance, "rescan_controller"), "1");
}

}  // namespace rds_nvme
