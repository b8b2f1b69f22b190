// scan({sysfsRoot, brief}): one bounded snapshot of NVMe controllers, subsystems and
// namespaces; with brief, only the attributes that find and judge a subsystem's
// controllers and devices (see kControllerAttrs in scan.cc), the rest null.
// Values are returned as the kernel wrote them (strings, or null when the attribute was
// absent or vanished mid-scan); TypeScript parses and interprets them.
// scanController(instance, {sysfsRoot}): the same shape, limited to controller nvme<N>,
// its namespaces, and the one subsystem it is a member of (with that subsystem's heads),
// always brief: for the controller a connect just created, whose instance the kernel
// returned. With devRoot, each visible namespace also says whether its device node exists
// (devNode '1' or '0'; null for hidden per-path entries and without devRoot).
#ifndef RDS_NVME_SCAN_H_
#define RDS_NVME_SCAN_H_

#include <napi.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "errno_error.h"

namespace rds_nvme {

class ScanState;

// One snapshot as scan() and scanController() take it, for workers: Take() on the pool
// (false with `err` filled when a class directory cannot be listed), ToJs() on the JS
// thread.
class SysfsSnapshot {
 public:
  SysfsSnapshot(std::string root, std::optional<uint32_t> only, bool brief,
                std::optional<std::string> dev_root = std::nullopt);
  ~SysfsSnapshot();
  SysfsSnapshot(const SysfsSnapshot&) = delete;
  SysfsSnapshot& operator=(const SysfsSnapshot&) = delete;
  bool Take(ErrnoError* err);
  Napi::Value ToJs(Napi::Env env) const;

 private:
  std::unique_ptr<ScanState> state_;
};

Napi::Value Scan(const Napi::CallbackInfo& info);
Napi::Value ScanController(const Napi::CallbackInfo& info);

}  // namespace rds_nvme

#endif  // RDS_NVME_SCAN_H_
