// connect(optionString, {fabricsPath}) and disconnect(instance, {sysfsRoot}).
#ifndef RDS_NVME_FABRICS_H_
#define RDS_NVME_FABRICS_H_

#include <napi.h>

namespace rds_nvme {

// Opens fabricsPath O_RDWR, writes the whole option string in one write() (which blocks
// for the entire fabric connect), reads `instance=N,cntlid=M` once, closes. Resolves
// {instance, cntlid}; rejects with the failing syscall's errno (EALREADY, EIO, ...).
Napi::Value Connect(const Napi::CallbackInfo& info);

// Writes "1" to <sysfsRoot>/class/nvme/nvme<instance>/delete_controller.
Napi::Value Disconnect(const Napi::CallbackInfo& info);

}  // namespace rds_nvme

#endif  // RDS_NVME_FABRICS_H_
