// Module init for the rds_nvme addon: the NVMe-oF fabrics and sysfs interface.
// Each concern lives in its own file; this one only registers exports.
#include <napi.h>

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

}  // namespace

NODE_API_MODULE(rds_nvme, Init)
