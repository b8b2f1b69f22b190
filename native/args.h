// Argument checks run on the JS thread before a worker is created. A wrong type or shape
// is a programming error in the TypeScript caller and throws a TypeError synchronously;
// values are copied into plain C++ types so workers never touch JS objects.
#ifndef RDS_NVME_ARGS_H_
#define RDS_NVME_ARGS_H_

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rds_nvme {

// A path from options object `info[index]`, key `key`: non-empty, absolute, no NUL.
// Returns false (with a pending JS exception) when invalid.
bool PathOption(const Napi::CallbackInfo& info, size_t index, const char* key, std::string* out);

// A controller instance number (the N of nvmeN): an integer in [0, 1000000].
bool InstanceArg(const Napi::CallbackInfo& info, size_t index, uint32_t* out);

// Longest path accepted anywhere (PATH_MAX - 1).
constexpr size_t kMaxPathBytes = 4095;

// An absolute path argument `info[index]`: non-empty, starts with '/', no NUL.
bool AbsolutePathArg(const Napi::CallbackInfo& info, size_t index, std::string* out);

// An array argument `info[index]` of at most `max_items` strings (`what` names them in
// the TypeError, e.g. "paths").
bool StringListArg(const Napi::CallbackInfo& info, size_t index, size_t max_items, const char* what,
                   std::vector<std::string>* out);

// A string argument of 1..max_len bytes with no NUL.
bool StringArg(const Napi::CallbackInfo& info, size_t index, size_t max_len, std::string* out);

}  // namespace rds_nvme

#endif  // RDS_NVME_ARGS_H_
