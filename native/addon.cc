// Module init for the rds_nvme addon: the NVMe-oF fabrics and sysfs interface, block
// device probing (libblkid) and mount(2).
// Each concern lives in its own file; this one only registers exports. The surface is
// deliberately tiny: every function validates its arguments on the JS thread, does a
// bounded amount of I/O on the libuv pool and returns a Promise. Policy is TypeScript's.
#include <napi.h>

#include "attributes.h"
#include "fabrics.h"
#include "files.h"
#include "mount.h"
#include "openers.h"
#include "probe.h"
#include "scan.h"
#include "spawn.h"
#include "usage.h"

namespace {

// Bumped whenever a signature or result shape changes; src/nvme/native.ts checks it.
constexpr int kAbiVersion = 6;

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, kAbiVersion));
  exports.Set("connect", Napi::Function::New(env, rds_nvme::Connect, "connect"));
  exports.Set("disconnect", Napi::Function::New(env, rds_nvme::Disconnect, "disconnect"));
  exports.Set("scan", Napi::Function::New(env, rds_nvme::Scan, "scan"));
  exports.Set("scanController",
              Napi::Function::New(env, rds_nvme::ScanController, "scanController"));
  exports.Set("setAttribute", Napi::Function::New(env, rds_nvme::SetAttribute, "setAttribute"));
  exports.Set("rescan", Napi::Function::New(env, rds_nvme::Rescan, "rescan"));
  exports.Set("findOpeners", Napi::Function::New(env, rds_nvme::FindOpeners, "findOpeners"));
  exports.Set("deviceUsage", Napi::Function::New(env, rds_nvme::DeviceUsage, "deviceUsage"));
  exports.Set("probeDevice", Napi::Function::New(env, rds_nvme::ProbeDevice, "probeDevice"));
  exports.Set("mount", Napi::Function::New(env, rds_nvme::Mount, "mount"));
  exports.Set("umount", Napi::Function::New(env, rds_nvme::Umount, "umount"));
  exports.Set("run", Napi::Function::New(env, rds_nvme::Run, "run"));
  exports.Set("readFile", Napi::Function::New(env, rds_nvme::ReadFile, "readFile"));
  return exports;
}

}  // namespace

NODE_API_MODULE(rds_nvme, Init)
