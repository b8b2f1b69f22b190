// findOpeners(paths, {procRoot}): which processes hold one of `paths` open, from the
// <procRoot>/<pid>/fd symlinks, in one bounded pass on the libuv pool (the detach in-use
// check; a walk from JS costs one event-loop round trip per process).
#ifndef RDS_NVME_OPENERS_H_
#define RDS_NVME_OPENERS_H_

#include <napi.h>

namespace rds_nvme {

Napi::Value FindOpeners(const Napi::CallbackInfo& info);

}  // namespace rds_nvme

#endif  // RDS_NVME_OPENERS_H_
