// mount(source, target, fstype, flags, data) and umount(target, flags): one mount(2) or
// umount2(2) each, on the libuv pool. Which flags and data string a mount gets (mount(8)'s
// option parsing, bind + remount for a read-only bind) is decided in TypeScript
// (src/mount/options.ts); the addon only checks shapes and passes them to the kernel.
#ifndef RDS_NVME_MOUNT_H_
#define RDS_NVME_MOUNT_H_

#include <napi.h>

namespace rds_nvme {

Napi::Value Mount(const Napi::CallbackInfo& info);

Napi::Value Umount(const Napi::CallbackInfo& info);

}  // namespace rds_nvme

#endif  // RDS_NVME_MOUNT_H_
