// readFile(path, {maxBytes}): a small regular file read whole in one pool job (open, read,
// close), for the driver's own state files: one hand-off instead of the four of
// fs.promises.readFile (open, fstat, read, close). The result is the file's bytes as
// UTF-8 text; a file longer than maxBytes is EFBIG, not truncated. A path that does not
// exist resolves null: "no record yet" is the common answer, not an error to build.
#ifndef RDS_NVME_FILES_H_
#define RDS_NVME_FILES_H_

#include <napi.h>

namespace rds_nvme {

Napi::Value ReadFile(const Napi::CallbackInfo& info);

}  // namespace rds_nvme

#endif  // RDS_NVME_FILES_H_
