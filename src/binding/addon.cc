// The N-API face of the core: per-environment state (Napi::Addon), one worker
// thread per environment, decoded batches handed to one JS handler through a
// thread-safe function, one call per batch (the handover: handover.cc).
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_set>

#include "codec.h"
#include "constants.h"
#include "convert.h"
#include "handover.h"
#include "nx.h"

namespace {

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) : env_(env) {
    interned_.keys.Init(env);
    interned_.values.Init(env);
    DefineAddon(exports, {
                             InstanceMethod("decode", &Addon::Decode),
                             InstanceMethod("start", &Addon::Start),
                             InstanceMethod("open", &Addon::Open),
                             InstanceMethod("request", &Addon::Request),
                             InstanceMethod("close", &Addon::Close),
                             InstanceMethod("ack", &Addon::Ack),
                             // The documents' nesting limit, both ways (codec.h).
                             InstanceValue("MAX_DEPTH", Napi::Number::New(env, NX_MAX_DOC_DEPTH), napi_enumerable),
                             InstanceValue("constants", MakeConstants(env), napi_enumerable),
                         });
  }

  ~Addon() {
    Shutdown();
    interned_.keys.Release(env_);
    interned_.values.Release(env_);
    handover_.Release(env_);
  }

  // Stops the worker (joined: nothing is delivered after this) and lets the
  // thread-safe function go. Runs from the environment cleanup hook, before
  // Node tears the thread-safe function down, or from the destructor.
  void Shutdown() {
    if (worker_) {
      nx_worker_free(worker_);
      worker_ = nullptr;
      tsfn_.Release();
    }
  }

 private:
  static void Deliver(void *ud, nx_batch *batch) {
    Addon *self = static_cast<Addon *>(ud);
    if (self->tsfn_.NonBlockingCall(batch) != napi_ok) nx_batch_free(batch);
  }

  static void CleanupHook(void *arg) { static_cast<Addon *>(arg)->Shutdown(); }

  // start(handler): starts the worker thread; every batch goes to handler.
  Napi::Value Start(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (worker_) {
      Napi::Error::New(env, "nexaclient: already started").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (!info[0].IsFunction()) {
      Napi::TypeError::New(env, "start(handler): handler must be a function").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    tsfn_ = Tsfn::New(env, info[0].As<Napi::Function>(), "nexaclient", 0, 1, this);
    tsfn_.Unref(env);
    worker_ = nx_worker_new(Deliver, this);
    if (!worker_) {
      tsfn_.Release();
      Napi::Error::New(env, "nexaclient: could not start the worker thread").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    // Registered after the thread-safe function, so it runs before Node's
    // own teardown of it (hooks run in reverse order).
    napi_add_env_cleanup_hook(env, CleanupHook, this);
    return env.Undefined();
  }

  // open(connId, {host, port, username, password, connectTimeout,
  // maxFrameBytes, keepAliveMs, keepAliveTimeoutMs, highWaterMark,
  // highWaterMarkBytes}): every field is checked (lib/options.js has
  // validated them for users; this guards the core against its own caller).
  Napi::Value Open(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!worker_) {
      Napi::Error::New(env, "nexaclient: open() before start()").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (!info[0].IsNumber() || !info[1].IsObject()) {
      Napi::TypeError::New(env, "open(connId, options)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Object opts = info[1].As<Napi::Object>();
    std::string host, user, pass;
    double port, connect_timeout, max_frame, keepalive, keepalive_timeout, hwm, hwm_bytes;
    if (!Text(opts, "host", &host) || !Text(opts, "username", &user) || !Text(opts, "password", &pass) ||
        !Whole(opts, "port", 1, 65535, &port) || !Whole(opts, "connectTimeout", 0, UINT32_MAX, &connect_timeout) ||
        !Whole(opts, "maxFrameBytes", 1, kMaxSafe, &max_frame) ||
        !Whole(opts, "keepAliveMs", 0, UINT32_MAX, &keepalive) || !Whole(opts, "keepAliveTimeoutMs", 0, UINT32_MAX, &keepalive_timeout) ||
        !Whole(opts, "highWaterMark", 0, UINT32_MAX, &hwm) || !Whole(opts, "highWaterMarkBytes", 0, kMaxSafe, &hwm_bytes)) {
      pass.assign(pass.size(), '\0');
      return env.Undefined();
    }
    nx_conn_opts o{};
    o.host = host.c_str();
    o.port = (uint16_t)port;
    o.user = user.c_str();
    o.pass = pass.c_str();
    o.connect_timeout_ms = (uint32_t)connect_timeout;
    o.max_frame = (size_t)max_frame;
    o.keepalive_ms = (uint32_t)keepalive;
    o.keepalive_timeout_ms = (uint32_t)keepalive_timeout;
    o.hwm_events = (uint32_t)hwm;
    o.hwm_bytes = (size_t)hwm_bytes;
    uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    int rc = nx_worker_open(worker_, id, &o);
    pass.assign(pass.size(), '\0');
    if (rc) {
      Napi::Error::New(env, "nexaclient: could not queue the connection").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    open_.insert(id);
    UpdateRef(env);
    return env.Undefined();
  }

  // A string field of open()'s options; false (a TypeError thrown) if it is not one.
  static bool Text(Napi::Object o, const char *name, std::string *out) {
    Napi::Value v = o.Get(name);
    if (!v.IsString()) {
      Napi::TypeError::New(o.Env(), std::string("open(): options.") + name + " must be a string").ThrowAsJavaScriptException();
      return false;
    }
    *out = v.As<Napi::String>().Utf8Value();
    return true;
  }

  static constexpr double kMaxSafe = 9007199254740991.0;  // Number.MAX_SAFE_INTEGER

  // A whole-number field of open()'s options within [lo, hi].
  static bool Whole(Napi::Object o, const char *name, double lo, double hi, double *out) {
    Napi::Value v = o.Get(name);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!v.IsNumber() || d != d || d < lo || d > hi || d != std::floor(d)) {
      Napi::TypeError::New(o.Env(), std::string("open(): options.") + name + " must be a whole number in range").ThrowAsJavaScriptException();
      return false;
    }
    *out = d;
    return true;
  }

  // request(connId, reqId, frame): hands a copy of the frame lib/encode.js
  // wrote to the worker.
  Napi::Value Request(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    uint32_t conn = info[0].As<Napi::Number>().Uint32Value();
    uint32_t req = info[1].As<Napi::Number>().Uint32Value();
    if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      Napi::TypeError::New(env, "request(connId, reqId, frame): frame must be a Uint8Array").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Uint8Array frame = info[2].As<Napi::Uint8Array>();
    size_t len = frame.ByteLength();
    char *copy = worker_ ? static_cast<char *>(malloc(len ? len : 1)) : nullptr;
    if (copy) memcpy(copy, frame.Data(), len);
    // The worker owns the copy from here, also when it cannot take it.
    if (!copy || nx_worker_send(worker_, conn, req, copy, len)) {
      Napi::Error::New(env, worker_ ? "nexaclient: the worker is not running or out of memory" : "nexaclient: the worker is not running").ThrowAsJavaScriptException();
    }
    return env.Undefined();
  }

  // ack(connId, events): the stream consumed that many change events.
  // False when the core could not take the report (out of memory, or
  // stopping): the caller keeps the count and reports it again.
  Napi::Value Ack(const Napi::CallbackInfo &info) {
    bool queued = worker_ && nx_worker_ack(worker_, info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Uint32Value()) == 0;
    return Napi::Boolean::New(info.Env(), queued);
  }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    // Read, not coerced: a coercion runs JS and can fail (a stack near its
    // limit), and a failed N-API call here would abort the process.
    bool graceful = info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    if (worker_) nx_worker_close(worker_, info[0].As<Napi::Number>().Uint32Value(), graceful);
    return env.Undefined();
  }

  // An optional argument: the levels a payload may nest (0 or absent: the
  // document rule, as the client sends and reads).
  static uint32_t MaxLevels(const Napi::CallbackInfo &info, size_t i) {
    return info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().Uint32Value() : 0;
  }

  // decode(buffer, int64Mode = 0, maxLevels?) -> value; throws on anything
  // the core's check refuses.
  Napi::Value Decode(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray()) {
      Napi::TypeError::New(env, "decode(buffer)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Uint8Array buf = info[0].As<Napi::Uint8Array>();
    int mode = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, 4096)) {
      Napi::Error::New(env, "out of memory").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    msgpack_object obj;
    char err[160] = "could not build the JS value";
    napi_value out = nullptr;
    if (nx_decode_levels(&zone, buf.Data(), buf.ByteLength(), 0, MaxLevels(info, 2), &obj, err, sizeof(err)) == 0) {
      interned_.keys.NewPass();
      interned_.values.NewPass();
      if (ToJs(env, &interned_, obj, mode, &out) != napi_ok) out = nullptr;
    }
    msgpack_zone_destroy(&zone);
    if (!out) {
      Napi::Error e = Napi::Error::New(env, std::string("invalid MessagePack: ") + err);
      e.Set("code", Napi::String::New(env, "NEXA_PROTOCOL"));
      e.ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::Value(env, out);
  }

  // A batch's turn on the main thread: one call of the JS handler.
  static void CallJs(Napi::Env env, Napi::Function handler, Addon *addon, nx_batch *batch) {
    if (env == nullptr || handler == nullptr) {  // torn down with batches queued
      nx_batch_free(batch);
      return;
    }
    addon->ForgetEnded(env, batch);
    addon->handover_.Hand(env, handler, batch, addon->worker_);
  }
  using Tsfn = Napi::TypedThreadSafeFunction<Addon, nx_batch, CallJs>;

  // A connection's terminal item releases the process's hold (UpdateRef)
  // before the batch is handed over, even when it cannot reach JS (only while
  // the environment is torn down).
  void ForgetEnded(Napi::Env env, const nx_batch *batch) {
    bool ended = false;
    for (size_t i = 0; i < batch->n; i++) {
      if (batch->items[i].kind != NX_EV_OPEN_FAILED && batch->items[i].kind != NX_EV_CLOSED) continue;
      open_.erase(batch->items[i].conn_id);
      ended = true;
    }
    if (ended) UpdateRef(env);
  }

  Interned interned_;  // decode()'s
  Handover handover_;
  std::unordered_set<uint32_t> open_;  // connections without their terminal item yet
  Tsfn tsfn_;

  void UpdateRef(Napi::Env env) {
    // Open connections keep the process alive, as sockets do; nothing else.
    if (!worker_) return;
    if (!open_.empty()) tsfn_.Ref(env);
    else tsfn_.Unref(env);
  }

  Napi::Env env_;
  nx_worker *worker_ = nullptr;
};

}  // namespace

NODE_API_ADDON(Addon)
