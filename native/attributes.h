// Controller attribute writes: setAttribute(instance, name, value, {sysfsRoot}) and
// rescan(instance, {sysfsRoot}). Which attributes may be written is TypeScript's decision;
// this file only refuses names that are not a single path component.
#ifndef RDS_NVME_ATTRIBUTES_H_
#define RDS_NVME_ATTRIBUTES_H_

#include <napi.h>

#include <cstdint>
#include <string>

namespace rds_nvme {

// <sysfs_root>/class/nvme/nvme<instance>/<name>
std::string ControllerAttributePath(const std::string& sysfs_root, uint32_t instance,
                                    const std::string& name);

// Queues one write of `value` to `path` on the libuv pool; returns its promise.
Napi::Promise StartAttributeWrite(Napi::Env env, const char* worker_name, std::string path,
                                  std::string value);

Napi::Value SetAttribute(const Napi::CallbackInfo& info);

// Writes "1" to rescan_controller.
Napi::Value Rescan(const Napi::CallbackInfo& info);

}  // namespace rds_nvme

#endif  // RDS_NVME_ATTRIBUTES_H_
