// run(file, argv, {env, timeoutMs}): starts a program with posix_spawn (vfork semantics: no
// copy of this large process's page tables), captures a bounded amount of stdout/stderr
// through pipes, and waits for it, all on the libuv pool. stdin is /dev/null. Which program
// and with which arguments, PATH lookup and the meaning of exit codes are TypeScript's.
#ifndef RDS_NVME_SPAWN_H_
#define RDS_NVME_SPAWN_H_

#include <napi.h>

namespace rds_nvme {

Napi::Value Run(const Napi::CallbackInfo& info);

}  // namespace rds_nvme

#endif  // RDS_NVME_SPAWN_H_
