// probeDevice(path): low-level signature probe of a block device with libblkid, the same
// library and the same chains blkid(8) uses with -p (filesystem/RAID/crypto superblocks
// and partition tables), run in-process on the libuv pool instead of spawning blkid.
// The three outcomes stay apart: "found" (with the NAME=value tags), "nothing" (every
// prober ran and none matched) and "ambiguous" (more than one signature); an I/O error is
// a rejected promise, so "could not tell" is never mistaken for "nothing".
#ifndef RDS_NVME_PROBE_H_
#define RDS_NVME_PROBE_H_

#include <napi.h>

namespace rds_nvme {

Napi::Value ProbeDevice(const Napi::CallbackInfo& info);

}  // namespace rds_nvme

#endif  // RDS_NVME_PROBE_H_
