#include "args.h"

#include <cmath>

namespace rds_nvme {

namespace {

constexpr double kMaxInstance = 1000000;

bool Fail(Napi::Env env, const std::string& message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return false;
}

}  // namespace

bool StringListArg(const Napi::CallbackInfo& info, size_t index, size_t max_items, const char* what,
                   std::vector<std::string>* out) {
  Napi::Env env = info.Env();
  if (info.Length() <= index || !info[index].IsArray()) {
    return Fail(env, "argument " + std::to_string(index) + " must be an array of " + what);
  }
  Napi::Array list = info[index].As<Napi::Array>();
  if (list.Length() > max_items) {
    return Fail(env, "at most " + std::to_string(max_items) + " " + what);
  }
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value v = list.Get(i);
    if (!v.IsString()) return Fail(env, std::string(what) + " must be strings");
    out->push_back(v.As<Napi::String>().Utf8Value());
  }
  return true;
}

bool StringArg(const Napi::CallbackInfo& info, size_t index, size_t max_len, std::string* out) {
  Napi::Env env = info.Env();
  if (info.Length() <= index || !info[index].IsString()) {
    return Fail(env, "argument " + std::to_string(index) + " must be a string");
  }
  std::string value = info[index].As<Napi::String>().Utf8Value();
  if (value.empty() || value.size() > max_len || value.find('\0') != std::string::npos) {
    return Fail(env, "argument " + std::to_string(index) + " must be 1.." +
                         std::to_string(max_len) + " bytes without NUL");
  }
  *out = std::move(value);
  return true;
}

bool PathOption(const Napi::CallbackInfo& info, size_t index, const char* key, std::string* out) {
  Napi::Env env = info.Env();
  if (info.Length() <= index || !info[index].IsObject()) {
    return Fail(env, std::string("argument ") + std::to_string(index) + " must be {" + key + "}");
  }
  Napi::Value value = info[index].As<Napi::Object>().Get(key);
  if (!value.IsString()) return Fail(env, std::string(key) + " must be a string");
  std::string path = value.As<Napi::String>().Utf8Value();
  if (path.empty() || path[0] != '/' || path.size() > kMaxPathBytes ||
      path.find('\0') != std::string::npos) {
    return Fail(env, std::string(key) + " must be an absolute path without NUL");
  }
  *out = std::move(path);
  return true;
}

bool AbsolutePathArg(const Napi::CallbackInfo& info, size_t index, std::string* out) {
  std::string path;
  if (!StringArg(info, index, kMaxPathBytes, &path)) return false;
  if (path[0] != '/') {
    return Fail(info.Env(), "argument " + std::to_string(index) + " must be an absolute path");
  }
  *out = std::move(path);
  return true;
}

bool InstanceArg(const Napi::CallbackInfo& info, size_t index, uint32_t* out) {
  Napi::Env env = info.Env();
  if (info.Length() <= index || !info[index].IsNumber()) {
    return Fail(env, "controller instance must be a number");
  }
  double value = info[index].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(value) || value < 0 || value > kMaxInstance || std::floor(value) != value) {
    return Fail(env, "controller instance must be an integer in [0, 1000000]");
  }
  *out = static_cast<uint32_t>(value);
  return true;
}

}  // namespace rds_nvme
