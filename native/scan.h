// scan({sysfsRoot}): one bounded snapshot of NVMe controllers, subsystems and namespaces.
// Values are returned as the kernel wrote them (strings, or null when the attribute was
// absent or vanished mid-scan); TypeScript parses and interprets them.
#ifndef RDS_NVME_SCAN_H_
#define RDS_NVME_SCAN_H_

#include <napi.h>

namespace rds_nvme {

Napi::Value Scan(const Napi::CallbackInfo& info);

}  // namespace rds_nvme

#endif  // RDS_NVME_SCAN_H_
