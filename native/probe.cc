#include "probe.h"

#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "promise_worker.h"
#include "sysfs_io.h"
#include "unique_fd.h"

namespace rds_nvme {

namespace {

struct ProbeDeleter {
  void operator()(blkid_struct_probe* pr) const { blkid_free_probe(pr); }
};
using ProbePtr = std::unique_ptr<blkid_struct_probe, ProbeDeleter>;

// blkid_do_safeprobe()'s documented results.
constexpr int kFound = 0;
constexpr int kNothing = 1;
constexpr int kAmbiguous = -2;

class ProbeWorker : public PromiseWorker {
 public:
  ProbeWorker(Napi::Env env, std::string path)
      : PromiseWorker(env, "rds_nvme.probeDevice"), path_(std::move(path)) {}

 protected:
  void Execute() override {
    UniqueFd fd(OpenRetry(path_, O_RDONLY | O_NONBLOCK));
    if (!fd.Valid()) return Fail(errno, "open");
    struct stat st;
    if (::fstat(fd.Get(), &st) != 0) return Fail(errno, "fstat");
    if (!S_ISBLK(st.st_mode)) return Fail(ENOTBLK, "fstat");
    ProbePtr pr(blkid_new_probe());
    if (!pr) return Fail(ENOMEM, "blkid_new_probe");
    // libblkid reads through this descriptor and never closes it (no BLKID_PROBE_FL_*).
    if (blkid_probe_set_device(pr.get(), fd.Get(), 0, 0) != 0) {
      return Fail(errno != 0 ? errno : EIO, "blkid_probe_set_device");
    }
    // The chains and flags of `blkid -p`, plus BADCSUM: a superblock whose checksum does
    // not match still counts as found (blkid -p would skip it and call the device empty).
    blkid_probe_enable_superblocks(pr.get(), 1);
    blkid_probe_set_superblocks_flags(pr.get(), BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID |
                                                    BLKID_SUBLKS_TYPE | BLKID_SUBLKS_SECTYPE |
                                                    BLKID_SUBLKS_USAGE | BLKID_SUBLKS_VERSION |
                                                    BLKID_SUBLKS_BADCSUM);
    blkid_probe_enable_partitions(pr.get(), 1);
    blkid_probe_set_partitions_flags(pr.get(), BLKID_PARTS_ENTRY_DETAILS);
    errno = 0;
    int rc = blkid_do_safeprobe(pr.get());
    if (rc == kNothing) {
      status_ = "nothing";
    } else if (rc == kAmbiguous) {
      status_ = "ambiguous";
    } else if (rc == kFound) {
      status_ = "found";
      int n = blkid_probe_numof_values(pr.get());
      for (int i = 0; i < n; ++i) {
        const char* name = nullptr;
        const char* data = nullptr;
        size_t len = 0;
        if (blkid_probe_get_value(pr.get(), i, &name, &data, &len) != 0) continue;
        // len counts the terminating NUL of string values.
        while (len > 0 && data[len - 1] == '\0') --len;
        values_.emplace_back(name, std::string(data, len));
      }
    } else {
      Fail(errno != 0 ? errno : EIO, "blkid_do_safeprobe");
    }
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("status", status_);
    Napi::Object values = Napi::Object::New(env);
    for (const auto& [name, value] : values_) values.Set(name, value);
    out.Set("values", values);
    return out;
  }

 private:
  void Fail(int errnum, const char* syscall) { error_ = ErrnoError{errnum, syscall, path_}; }

  std::string path_;
  const char* status_ = "nothing";
  std::vector<std::pair<std::string, std::string>> values_;
};

}  // namespace

Napi::Value ProbeDevice(const Napi::CallbackInfo& info) {
  std::string path;
  if (!AbsolutePathArg(info, 0, &path)) return info.Env().Undefined();
  return PromiseWorker::Start(new ProbeWorker(info.Env(), std::move(path)));
}

}  // namespace rds_nvme
