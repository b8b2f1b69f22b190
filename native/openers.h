// findOpeners(paths, {procRoot}): which processes hold one of `paths` open, from the
// <procRoot>/<pid>/fd symlinks, in one bounded pass on the libuv pool (the detach in-use
// check; a walk from JS costs one event-loop round trip per process).
#ifndef RDS_NVME_OPENERS_H_
#define RDS_NVME_OPENERS_H_

#include <napi.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "errno_error.h"

namespace rds_nvme {

// (pid, the link target that matched)
using OpenerList = std::vector<std::pair<unsigned long, std::string>>;

// The walk itself, for workers: appends every <proc>/<pid>/fd/<n> whose link target is in
// `paths`. Fails (with `err`) only when <proc> cannot be listed; processes that exit or
// deny access mid-walk are skipped.
bool WalkOpeners(const std::string& proc, const std::set<std::string>& paths, OpenerList* found,
                 ErrnoError* err);

// Appends {pid, path} objects for `found` to a JS array.
Napi::Array OpenersArray(Napi::Env env, const OpenerList& found);

Napi::Value FindOpeners(const Napi::CallbackInfo& info);

}  // namespace rds_nvme

#endif  // RDS_NVME_OPENERS_H_
