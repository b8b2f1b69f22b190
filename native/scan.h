// scan({sysfsRoot}): one bounded snapshot of NVMe controllers, subsystems and namespaces.
// Values are returned as the kernel wrote them (strings, or null when the attribute was
// absent or vanished mid-scan); TypeScript parses and interprets them.
// scanController(instance, {sysfsRoot}): the same shape, limited to controller nvme<N>,
// its namespaces, and the one subsystem it is a member of (with that subsystem's heads),
// and to the attributes a device wait needs (controller state and subsysnqn, namespace
// nsid and hidden, subsystem subsysnqn; the rest null): for the controller a connect just
// created, whose instance the kernel returned.
#ifndef RDS_NVME_SCAN_H_
#define RDS_NVME_SCAN_H_

#include <napi.h>

namespace rds_nvme {

Napi::Value Scan(const Napi::CallbackInfo& info);
Napi::Value ScanController(const Napi::CallbackInfo& info);

}  // namespace rds_nvme

#endif  // RDS_NVME_SCAN_H_
