// The N-API face of the core: per-environment state (Napi::Addon), one worker
// thread per environment, decoded batches handed to one JS handler through a
// thread-safe function, one call per batch.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "codec.h"
#include "constants.h"
#include "convert.h"
#include "nx.h"

namespace {

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) : env_(env) {
    interned_.keys.Init(env);
    interned_.values.Init(env);
    DefineAddon(exports, {
                             InstanceMethod("encode", &Addon::Encode),
                             InstanceMethod("decode", &Addon::Decode),
                             InstanceMethod("frame", &Addon::Frame),
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
    for (Slot &s : slots_)
      if (s.ref) napi_delete_reference(env_, s.ref);
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
  // maxFrameBytes, int64Mode, keepAliveMs, keepAliveTimeoutMs, highWaterMark,
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
    double port, connect_timeout, max_frame, mode, keepalive, keepalive_timeout, hwm, hwm_bytes;
    if (!Text(opts, "host", &host) || !Text(opts, "username", &user) || !Text(opts, "password", &pass) ||
        !Whole(opts, "port", 1, 65535, &port) || !Whole(opts, "connectTimeout", 0, UINT32_MAX, &connect_timeout) ||
        !Whole(opts, "maxFrameBytes", 1, kMaxSafe, &max_frame) || !Whole(opts, "int64Mode", 0, INT64_STRING, &mode) ||
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
    o.int64_mode = (uint8_t)mode;
    o.keepalive_ms = (uint32_t)keepalive;
    o.keepalive_timeout_ms = (uint32_t)keepalive_timeout;
    o.hwm_events = (uint32_t)hwm;
    o.hwm_bytes = (size_t)hwm_bytes;
    int rc = nx_worker_open(worker_, info[0].As<Napi::Number>().Uint32Value(), &o);
    pass.assign(pass.size(), '\0');
    if (rc) {
      Napi::Error::New(env, "nexaclient: could not queue the connection").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    open_++;
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

  // request(connId, reqId, type, payload): encodes on this thread (the
  // value is only readable here) and hands the frame to the worker.
  Napi::Value Request(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    uint32_t conn = info[0].As<Napi::Number>().Uint32Value();
    uint32_t req = info[1].As<Napi::Number>().Uint32Value();
    uint32_t type = info[2].As<Napi::Number>().Uint32Value();
    msgpack_sbuffer sb;
    if (!BuildFrame(env, &sb, type, info[3], 0)) return env.Undefined();
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
    // Read, not coerced: a coercion runs JS and can fail (a stack near its
    // limit), and a failed N-API call here would abort the process.
    bool graceful = info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    if (worker_) nx_worker_close(worker_, info[0].As<Napi::Number>().Uint32Value(), graceful);
    return env.Undefined();
  }

  // max_levels: 0 the document rule, else a bound on the whole payload (PackPayload).
  bool BuildFrame(Napi::Env env, msgpack_sbuffer *sb, uint32_t type, Napi::Value v, uint32_t max_levels) {
    if (nx_frame_begin(sb)) {
      msgpack_sbuffer_destroy(sb);
      Napi::Error::New(env, "out of memory").ThrowAsJavaScriptException();
      return false;
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    if (!PackPayload(env, &pk, v, max_levels) || nx_frame_finish(sb, (uint8_t)type)) {
      msgpack_sbuffer_destroy(sb);
      if (!env.IsExceptionPending()) Napi::Error::New(env, "could not encode the request").ThrowAsJavaScriptException();
      return false;
    }
    return true;
  }

  // An optional argument: the levels a payload may nest (0 or absent: the
  // document rule, as the client sends and reads).
  static uint32_t MaxLevels(const Napi::CallbackInfo &info, size_t i) {
    return info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().Uint32Value() : 0;
  }

  // encode(value, maxLevels?) -> Buffer holding the MessagePack of value.
  Napi::Value Encode(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (!PackPayload(env, &pk, info[0], MaxLevels(info, 1))) {
      msgpack_sbuffer_destroy(&sb);
      if (!env.IsExceptionPending()) Napi::Error::New(env, "out of memory").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Buffer<char> out = Napi::Buffer<char>::Copy(env, sb.data ? sb.data : "", sb.size);
    msgpack_sbuffer_destroy(&sb);
    return out;
  }

  // frame(type, value, maxLevels?) -> Buffer holding a whole frame (header + payload).
  Napi::Value Frame(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    msgpack_sbuffer sb;
    if (!BuildFrame(env, &sb, info[0].As<Napi::Number>().Uint32Value(), info[1], MaxLevels(info, 2))) return env.Undefined();
    Napi::Buffer<char> out = Napi::Buffer<char>::Copy(env, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return out;
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

  // Delivery of a batch to the JS handler, on the main thread, in steps
  // (defined below the class).
  static void CallJs(Napi::Env env, Napi::Function handler, Addon *addon, nx_batch *batch);
  using Tsfn = Napi::TypedThreadSafeFunction<Addon, nx_batch, CallJs>;
  struct Slot;
  static void *Scratch(napi_env e, Slot &s, napi_typedarray_type type, size_t elem, size_t n, bool *resend);
  void CountTerminals(Napi::Env env, const nx_batch *batch);
  bool FillEntries(napi_env e, const nx_batch *batch, uint32_t *head, napi_value undef, napi_value *values, uint32_t *n);
  static void CopyTape(const nx_tape *t, void *ops, void *nums, void *bins);
  static bool MakeSegments(napi_env e, const nx_tape *t, napi_value *str);
  bool HandArrays(napi_env e, bool oneoff, napi_value *arrays);
  void DropOneoffs(napi_env e);

  Interned interned_;
  int open_ = 0;  // connections without their terminal item yet

  // The typed arrays batches are handed over in, reused from batch to batch
  // (CallJs): head, ops, nums, bins.
  struct Slot {
    napi_ref ref = nullptr;
    size_t cap = 0;       // elements
    bool oneoff = false;  // made for one large batch, not kept
  };
  static constexpr size_t kScratchMaxBytes = 1u << 20;
  Slot slots_[4];
  bool resend_ = true;  // JS has not got the current arrays

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


  Napi::Env env_;
  nx_worker *worker_ = nullptr;
};

// N-API calls fail while an environment is being torn down (a worker
// terminated mid-stream): every result is checked, never assumed.

// Makes slot `s` a typed array of at least `n` elements and returns its
// data, or nullptr. Arrays up to kScratchMaxBytes are kept and reused for
// the next batches (no allocation, no zero-filling, no garbage per batch);
// a larger one is made for this batch alone. *resend tells whether JS must be
// handed the arrays again (this one is new, or the last was a one-off).
void *Addon::Scratch(napi_env e, Slot &s, napi_typedarray_type type, size_t elem, size_t n, bool *resend) {
  if (s.ref && !s.oneoff) {
    napi_value ta;
    napi_typedarray_type t;
    size_t len = 0;
    void *data = nullptr;
    if (napi_get_reference_value(e, s.ref, &ta) == napi_ok && ta &&
        napi_get_typedarray_info(e, ta, &t, &len, &data, nullptr, nullptr) == napi_ok && data && len >= n)
      return data;
  }
  size_t cap = n;
  bool keep = n * elem <= Addon::kScratchMaxBytes;
  if (keep) {
    cap = s.ref && !s.oneoff && s.cap * 2 > n ? s.cap * 2 : n;
    if (cap < 1024) cap = 1024;
    if (cap * elem > Addon::kScratchMaxBytes) cap = Addon::kScratchMaxBytes / elem;
  }
  napi_value ab, ta;
  void *data = nullptr;
  if (napi_create_arraybuffer(e, cap * elem, &data, &ab) != napi_ok || !data ||
      napi_create_typedarray(e, type, cap, ab, 0, &ta) != napi_ok)
    return nullptr;
  if (s.ref) {
    napi_delete_reference(e, s.ref);
    s.ref = nullptr;
  }
  if (napi_create_reference(e, ta, 1, &s.ref) != napi_ok) {
    s.ref = nullptr;
    return nullptr;
  }
  s.cap = cap;
  s.oneoff = !keep;
  *resend = true;
  return data;
}

// Terminal items release the process's hold (UpdateRef) even when their
// batch cannot reach JS (only while the environment is torn down).
void Addon::CountTerminals(Napi::Env env, const nx_batch *batch) {
  int closed = 0;
  for (size_t i = 0; i < batch->n; i++)
    closed += batch->items[i].kind == NX_EV_OPEN_FAILED || batch->items[i].kind == NX_EV_CLOSED;
  if (closed) {
    open_ -= closed;
    UpdateRef(env);
  }
}

// Writes the entries' heads and the values of those that are not change
// runs; *n: how many entries.
bool Addon::FillEntries(napi_env e, const nx_batch *batch, uint32_t *head, napi_value undef, napi_value *values, uint32_t *n_out) {
  uint32_t n = 0;
  bool ok = true;
  for (size_t i = 0; i < batch->n; n++) {
    const nx_item &it = batch->items[i];
    uint32_t *h = head + 5 * n;
    h[0] = it.kind;
    h[1] = it.conn_id;
    h[2] = it.req_id;
    h[3] = it.msg_type;
    h[4] = 0;
    if (it.kind == NX_EV_CHANGE) {
      size_t j = i;
      uint64_t bytes = 0;
      while (j < batch->n && batch->items[j].kind == NX_EV_CHANGE && batch->items[j].conn_id == it.conn_id) bytes += batch->items[j++].bytes;
      h[2] = bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;  // the run's payload bytes
      h[4] = (uint32_t)(j - i);  // that many events, next on the tape
      i = j;
      continue;
    }
    napi_value value;
    if (it.kind == NX_EV_UNDECODABLE || it.kind == NX_EV_REPLY_FAILED) {
      // Why it could not be decoded.
      if (!it.message || napi_create_string_utf8(e, it.message, NAPI_AUTO_LENGTH, &value) != napi_ok) napi_get_null(e, &value);
    } else if (ToJs(e, &interned_, it.obj, it.int64_mode, &value) != napi_ok) {
      napi_get_null(e, &value);
    }
    if (it.kind == NX_EV_OPEN_FAILED || it.kind == NX_EV_CLOSED) {
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
    if (*values == undef && napi_create_array(e, values) != napi_ok) ok = false;
    if (ok && napi_set_element(e, *values, n, value) != napi_ok) ok = false;
    i++;
  }
  *n_out = n;
  return ok;
}

void Addon::CopyTape(const nx_tape *t, void *ops, void *nums, void *bins) {
  if (t->nops) memcpy(ops, t->ops, t->nops * 4);
  if (t->nnums) memcpy(nums, t->nums, t->nnums * 8);
  if (t->nbins) memcpy(bins, t->bins, t->nbins);
}

// One string per segment (src/core/tape.h): an event kept by the program
// keeps its segment's text alive, not the whole batch's.
bool Addon::MakeSegments(napi_env e, const nx_tape *t, napi_value *str) {
  bool ok = napi_create_array_with_length(e, t->nsegs + 1, str) == napi_ok;
  for (size_t k = 0; ok && k <= t->nsegs; k++) {
    size_t from = k ? t->segs[k - 1] : 0;
    size_t to = k < t->nsegs ? t->segs[k] : t->nstr;
    const char *p = t->str ? t->str + from : "";
    napi_value seg;
    ok = (!t->non_ascii ? napi_create_string_latin1(e, p, to - from, &seg) : napi_create_string_utf8(e, p, to - from, &seg)) == napi_ok &&
         napi_set_element(e, *str, (uint32_t)k, seg) == napi_ok;
  }
  return ok;
}

// [head, ops, nums, bins, oneoff] for JS, when they changed.
bool Addon::HandArrays(napi_env e, bool oneoff, napi_value *arrays) {
  napi_value v;
  bool ok = napi_create_array_with_length(e, 5, arrays) == napi_ok;
  for (uint32_t k = 0; ok && k < 4; k++)
    ok = napi_get_reference_value(e, slots_[k].ref, &v) == napi_ok && v && napi_set_element(e, *arrays, k, v) == napi_ok;
  return ok && napi_get_boolean(e, oneoff, &v) == napi_ok && napi_set_element(e, *arrays, 4, v) == napi_ok;
}

// A one-off array (a batch past kScratchMaxBytes) is let go after its
// call, here and in JS (arrays[4]), so an idle stream does not keep it.
void Addon::DropOneoffs(napi_env e) {
  for (Slot &sl : slots_) {
    if (!sl.oneoff) continue;
    napi_delete_reference(e, sl.ref);
    sl.ref = nullptr;
    sl.cap = 0;
    sl.oneoff = false;
  }
}

// The JS handler gets (n, values, str, arrays):
//   n       entries in this batch; entry i is head[5i .. 5i+4]:
//           kind, connId, reqId (change runs: their payload bytes), msgType,
//           count (change runs)
//   values  an array with entry i's value where it is not a change run
//           (replies, OPEN's answer, [code, message, payload] for terminal
//           items, the reason for undecodable events and answers), or
//           undefined when every entry is a change run
//   str     the strings of the batch's change events, as an array of
//           segments (latin1 when all ASCII), or undefined when there are
//           no change events
//   arrays  [head Uint32Array, ops Uint32Array, nums Float64Array,
//           bins Uint8Array, oneoff] when they changed since the last batch,
//           else undefined. They are reused from batch to batch: JS reads
//           them during the call and keeps nothing that points into them.
//           oneoff: one of them was made for this batch alone (too large to
//           keep), so JS drops them after the call.
// Consecutive change events of one connection make one entry whose count
// says how many events are next on the tape: per event, the only work left
// is building the event itself, in JS.
void Addon::CallJs(Napi::Env env, Napi::Function handler, Addon *addon, nx_batch *batch) {
  if (env == nullptr || handler == nullptr) {  // torn down with batches queued
    nx_batch_free(batch);
    return;
  }
  napi_env e = env;
  addon->interned_.keys.NewPass();
  addon->interned_.values.NewPass();
  const nx_tape *t = &batch->tape;
  addon->CountTerminals(env, batch);
  bool resend = addon->resend_;
  addon->resend_ = true;  // until JS has been handed this batch's arrays
  uint32_t *head = static_cast<uint32_t *>(Scratch(e, addon->slots_[0], napi_uint32_array, 4, batch->n * 5, &resend));
  void *ops = Scratch(e, addon->slots_[1], napi_uint32_array, 4, t->nops, &resend);
  void *nums = Scratch(e, addon->slots_[2], napi_float64_array, 8, t->nnums, &resend);
  void *bins = Scratch(e, addon->slots_[3], napi_uint8_array, 1, t->nbins, &resend);
  napi_value undef, values, str, arrays;
  if (!head || !ops || !nums || !bins || napi_get_undefined(e, &undef) != napi_ok) {  // the environment is going away
    nx_batch_free(batch);
    return;
  }
  values = str = arrays = undef;
  uint32_t n = 0;
  bool ok = addon->FillEntries(e, batch, head, undef, &values, &n);
  if (t->events > 0) {
    CopyTape(t, ops, nums, bins);
    ok = ok && MakeSegments(e, t, &str);
  }
  bool oneoff = false;
  for (const Slot &sl : addon->slots_) oneoff = oneoff || sl.oneoff;
  if (ok && resend) ok = addon->HandArrays(e, oneoff, &arrays);
  addon->Recycle(batch);
  napi_value count;
  if (!ok || napi_create_uint32(e, n, &count) != napi_ok) return;  // could not build it: only while torn down
  addon->resend_ = oneoff;
  if (oneoff) addon->DropOneoffs(e);
  handler.Call({Napi::Value(env, count), Napi::Value(env, values), Napi::Value(env, str), Napi::Value(env, arrays)});
}

}  // namespace

NODE_API_ADDON(Addon)
