// The N-API face of the core: per-environment state (Napi::Addon), one worker
// thread per environment, decoded batches handed to one JS handler through a
// thread-safe function, one call per batch.
#include <napi.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "codec.h"
#include "convert.h"
#include "nx.h"

namespace {

class Addon;
void CallJs(Napi::Env env, Napi::Function handler, Addon *addon, nx_batch *batch);
using Tsfn = Napi::TypedThreadSafeFunction<Addon, nx_batch, CallJs>;

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) : env_(env) {
    interned_.keys.Init(env);
    interned_.values.Init(env);
    DefineAddon(exports, {
                             InstanceMethod("encode", &Addon::Encode),
                             InstanceMethod("decode", &Addon::Decode),
                             InstanceMethod("frame", &Addon::Frame),
                             InstanceMethod("setHandler", &Addon::SetHandler),
                             InstanceMethod("open", &Addon::Open),
                             InstanceMethod("request", &Addon::Request),
                             InstanceMethod("close", &Addon::Close),
                             InstanceMethod("ack", &Addon::Ack),
                         });
  }

  ~Addon() {
    Shutdown();
    interned_.keys.Release(env_);
    interned_.values.Release(env_);
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

  Interned interned_;
  int open_ = 0;  // connections without their terminal item yet

  // A delivered batch's memory goes back to the worker for the next ones.
  void Recycle(nx_batch *b) {
    if (worker_) nx_worker_recycle(worker_, b);
    else nx_batch_free(b);
  }
  Tsfn tsfn_;

  void UpdateRef(Napi::Env env) {
    // Open connections keep the process alive, as sockets do; nothing else.
    if (!worker_) return;
    if (open_ > 0) tsfn_.Ref(env);
    else tsfn_.Unref(env);
  }

 private:
  static void Deliver(void *ud, nx_batch *batch) {
    Addon *self = static_cast<Addon *>(ud);
    if (self->tsfn_.NonBlockingCall(batch) != napi_ok) nx_batch_free(batch);
  }

  static void CleanupHook(void *arg) { static_cast<Addon *>(arg)->Shutdown(); }

  Napi::Value SetHandler(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (worker_) {
      Napi::Error::New(env, "handler already set").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (!info[0].IsFunction()) {
      Napi::TypeError::New(env, "setHandler(fn)").ThrowAsJavaScriptException();
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

  Napi::Value Open(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!worker_) {
      Napi::Error::New(env, "setHandler first").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    std::string host = info[1].As<Napi::String>().Utf8Value();
    uint32_t port = info[2].As<Napi::Number>().Uint32Value();
    std::string user = info[3].As<Napi::String>().Utf8Value();
    std::string pass = info[4].As<Napi::String>().Utf8Value();
    nx_conn_opts o{};
    o.host = host.c_str();
    o.port = (uint16_t)port;
    o.user = user.c_str();
    o.pass = pass.c_str();
    o.connect_timeout_ms = info[5].As<Napi::Number>().Uint32Value();
    o.max_frame = (size_t)info[6].As<Napi::Number>().DoubleValue();
    o.conn_flags = (uint8_t)info[7].As<Napi::Number>().Uint32Value();
    o.keepalive_ms = info[8].As<Napi::Number>().Uint32Value();
    o.keepalive_timeout_ms = info[9].As<Napi::Number>().Uint32Value();
    o.hwm_events = info[10].As<Napi::Number>().Uint32Value();
    o.hwm_bytes = (size_t)info[11].As<Napi::Number>().DoubleValue();
    int rc = nx_worker_open(worker_, id, &o);
    pass.assign(pass.size(), '\0');
    if (rc) {
      Napi::Error::New(env, "nexaclient: could not queue the connection").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    open_++;
    UpdateRef(env);
    return env.Undefined();
  }

  // request(connId, reqId, type, payload): encodes on this thread (the
  // value is only readable here) and hands the frame to the worker.
  Napi::Value Request(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    uint32_t conn = info[0].As<Napi::Number>().Uint32Value();
    uint32_t req = info[1].As<Napi::Number>().Uint32Value();
    uint32_t type = info[2].As<Napi::Number>().Uint32Value();
    msgpack_sbuffer sb;
    if (!BuildFrame(env, &sb, type, info[3])) return env.Undefined();
    size_t len = sb.size;
    if (!worker_ || nx_worker_send(worker_, conn, req, msgpack_sbuffer_release(&sb), len)) {
      Napi::Error::New(env, "nexaclient: the worker is not running").ThrowAsJavaScriptException();
    }
    return env.Undefined();
  }

  // ack(connId, events): the stream consumed that many change events.
  Napi::Value Ack(const Napi::CallbackInfo &info) {
    if (worker_) nx_worker_ack(worker_, info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Uint32Value());
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (worker_) nx_worker_close(worker_, info[0].As<Napi::Number>().Uint32Value(), info[1].ToBoolean().Value());
    return env.Undefined();
  }

  bool BuildFrame(Napi::Env env, msgpack_sbuffer *sb, uint32_t type, Napi::Value v) {
    if (nx_frame_begin(sb)) {
      msgpack_sbuffer_destroy(sb);
      Napi::Error::New(env, "out of memory").ThrowAsJavaScriptException();
      return false;
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    if (!PackJs(env, &pk, v, 0) || nx_frame_finish(sb, (uint8_t)type)) {
      msgpack_sbuffer_destroy(sb);
      if (!env.IsExceptionPending()) Napi::Error::New(env, "could not encode the request").ThrowAsJavaScriptException();
      return false;
    }
    return true;
  }

  // encode(value) -> Buffer holding the MessagePack of value.
  Napi::Value Encode(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (!PackJs(env, &pk, info[0], 0)) {
      msgpack_sbuffer_destroy(&sb);
      if (!env.IsExceptionPending()) Napi::Error::New(env, "out of memory").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Buffer<char> out = Napi::Buffer<char>::Copy(env, sb.data ? sb.data : "", sb.size);
    msgpack_sbuffer_destroy(&sb);
    return out;
  }

  // frame(type, value) -> Buffer holding a whole frame (header + payload).
  Napi::Value Frame(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    msgpack_sbuffer sb;
    if (!BuildFrame(env, &sb, info[0].As<Napi::Number>().Uint32Value(), info[1])) return env.Undefined();
    Napi::Buffer<char> out = Napi::Buffer<char>::Copy(env, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return out;
  }

  // decode(buffer, int64Mode = 0) -> value; throws on anything the core's
  // check refuses.
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
    if (nx_decode(&zone, buf.Data(), buf.ByteLength(), 0, &obj, err, sizeof(err)) == 0) {
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

  Napi::Env env_;
  nx_worker *worker_ = nullptr;
};

// N-API calls fail while an environment is being torn down (a worker
// terminated mid-stream): every result is checked, never assumed.
static napi_value TypedCopy(napi_env e, napi_typedarray_type type, const void *src, size_t n, size_t elem) {
  napi_value ab, ta;
  void *data = nullptr;
  if (napi_create_arraybuffer(e, n * elem, &data, &ab) != napi_ok || (n && !data)) return nullptr;
  if (n) memcpy(data, src, n * elem);
  if (napi_create_typedarray(e, type, n, ab, 0, &ta) != napi_ok) return nullptr;
  return ta;
}

// The batch's change events as [string, Uint32Array ops, Float64Array nums,
// Uint8Array bins], or undefined when there are none. One string for every
// string of the batch: latin1 when it is all ASCII (no decoding at all).
static napi_value TapeToJs(napi_env e, const nx_tape *t) {
  napi_value out = nullptr;
  if (t->events == 0) {
    napi_get_undefined(e, &out);
    return out;
  }
  napi_value str;
  napi_status st = !t->non_ascii ? napi_create_string_latin1(e, t->str ? t->str : "", t->nstr, &str)
                                 : napi_create_string_utf8(e, t->str, t->nstr, &str);
  napi_value ops = TypedCopy(e, napi_uint32_array, t->ops, t->nops, sizeof(int32_t));
  napi_value nums = TypedCopy(e, napi_float64_array, t->nums, t->nnums, sizeof(double));
  napi_value bins = TypedCopy(e, napi_uint8_array, t->bins, t->nbins, 1);
  if (st != napi_ok || !ops || !nums || !bins || napi_create_array_with_length(e, 4, &out) != napi_ok) return nullptr;
  napi_set_element(e, out, 0, str);
  napi_set_element(e, out, 1, ops);
  napi_set_element(e, out, 2, nums);
  napi_set_element(e, out, 3, bins);
  return out;
}

// The batch becomes one flat array, five slots an entry:
//   kind, connId, reqId, msgType, value
// Consecutive change events of one connection make one entry of kind
// NX_EV_CHANGE whose value is the array of events: per event, the only
// N-API work left is building the event itself.
// For a terminal item, value is [code, message, payload].
void CallJs(Napi::Env env, Napi::Function handler, Addon *addon, nx_batch *batch) {
  if (env == nullptr || handler == nullptr) {  // torn down with batches queued
    nx_batch_free(batch);
    return;
  }
  napi_env e = env;
  addon->interned_.keys.NewPass();
  addon->interned_.values.NewPass();
  napi_value arr;
  if (napi_create_array_with_length(e, 0, &arr) != napi_ok) {  // the environment is going away
    nx_batch_free(batch);
    return;
  }
  uint32_t slot = 0;
  int closed = 0;
  for (size_t i = 0; i < batch->n;) {
    const nx_item &it = batch->items[i];
    napi_value kind, conn, req, type, value = nullptr;
    napi_create_uint32(e, it.kind, &kind);
    napi_create_uint32(e, it.conn_id, &conn);
    napi_create_uint32(e, it.req_id, &req);
    napi_create_uint32(e, it.msg_type, &type);
    if (it.kind == NX_EV_CHANGE) {
      size_t j = i;
      while (j < batch->n && batch->items[j].kind == NX_EV_CHANGE && batch->items[j].conn_id == it.conn_id) j++;
      napi_create_uint32(e, (uint32_t)(j - i), &value);  // that many events, next on the tape
      i = j;
    } else {
      if (ToJs(e, &addon->interned_, it.obj, it.conn_flags, &value) != napi_ok) napi_get_null(e, &value);
      if (it.kind == NX_EV_OPEN_FAILED || it.kind == NX_EV_CLOSED) {
        closed++;
        napi_value triple, code, msg;
        napi_create_array_with_length(e, 3, &triple);
        if (it.code) napi_create_string_utf8(e, it.code, NAPI_AUTO_LENGTH, &code);
        else napi_get_null(e, &code);
        if (it.message) napi_create_string_utf8(e, it.message, NAPI_AUTO_LENGTH, &msg);
        else napi_get_null(e, &msg);
        napi_set_element(e, triple, 0, code);
        napi_set_element(e, triple, 1, msg);
        napi_set_element(e, triple, 2, value);
        value = triple;
      }
      i++;
    }
    napi_set_element(e, arr, slot++, kind);
    napi_set_element(e, arr, slot++, conn);
    napi_set_element(e, arr, slot++, req);
    napi_set_element(e, arr, slot++, type);
    napi_set_element(e, arr, slot++, value);
  }
  bool batch_had_events = batch->tape.events > 0;
  napi_value tape = TapeToJs(e, &batch->tape);
  addon->Recycle(batch);
  if (closed) {
    addon->open_ -= closed;
    addon->UpdateRef(env);
  }
  if (!tape) {
    if (batch_had_events) return;  // could not build it: only while torn down
    napi_get_undefined(e, &tape);
  }
  handler.Call({Napi::Value(env, arr), Napi::Value(env, tape)});
}

}  // namespace

NODE_API_ADDON(Addon)
