// Base for every addon call: a libuv-pool AsyncWorker settling a Promise. Subclasses do
// bounded syscalls in Execute() and record an ErrnoError instead of throwing; the promise
// is rejected with that error (code/errno/syscall/path) or resolved with Result().
#ifndef RDS_NVME_PROMISE_WORKER_H_
#define RDS_NVME_PROMISE_WORKER_H_

#include <napi.h>

#include "errno_error.h"

namespace rds_nvme {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}

  // Queues the worker (which deletes itself when done) and returns its promise.
  static Napi::Promise Start(PromiseWorker* worker) {
    Napi::Promise promise = worker->deferred_.Promise();
    worker->Queue();
    return promise;
  }

 protected:
  // Builds the resolution value on the JS thread; only called when no error was recorded.
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }

  ErrnoError error_;

 private:
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (error_.Failed()) {
      deferred_.Reject(ToJsError(env, error_).Value());
    } else {
      deferred_.Resolve(Result(env));
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

  Napi::Promise::Deferred deferred_;
};

}  // namespace rds_nvme

#endif  // RDS_NVME_PROMISE_WORKER_H_
