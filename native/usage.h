// deviceUsage(names, {sysfsRoot, procRoot}): what the detach in-use check reads, in one
// bounded pass on the libuv pool: for each block device and its partitions, the
// 'major:minor' and the holders (<sysfs>/block/<name>[/<part>]/{dev,holders}); the text of
// <proc>/self/mountinfo; and the processes holding one of their /dev nodes open. Raw data
// only: deciding what counts as a use is TypeScript's (src/nvme/inuse.ts).
#ifndef RDS_NVME_USAGE_H_
#define RDS_NVME_USAGE_H_

#include <napi.h>

namespace rds_nvme {

Napi::Value DeviceUsage(const Napi::CallbackInfo& info);

}  // namespace rds_nvme

#endif  // RDS_NVME_USAGE_H_
