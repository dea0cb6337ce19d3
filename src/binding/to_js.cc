#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include "convert.h"

#define TRY(call)                       \
  do {                                  \
    napi_status st_ = (call);           \
    if (st_ != napi_ok) return st_;     \
  } while (0)

static const double kMaxSafe = 9007199254740991.0;

static napi_status Unsigned(napi_env env, uint64_t u, int mode, napi_value *out) {
  if (u <= UINT32_MAX) return napi_create_uint32(env, (uint32_t)u, out);
  bool unsafe = u > (uint64_t)kMaxSafe;
  if (mode == INT64_BIGINT || (mode == INT64_AUTO && unsafe)) return napi_create_bigint_uint64(env, u, out);
  if (mode == INT64_STRING && unsafe) {
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%" PRIu64, u);
    return napi_create_string_latin1(env, buf, (size_t)n, out);
  }
  return napi_create_double(env, (double)u, out);
}

static napi_status Signed(napi_env env, int64_t i, int mode, napi_value *out) {
  if (i >= INT32_MIN) return napi_create_int32(env, (int32_t)i, out);
  bool unsafe = i < -(int64_t)kMaxSafe;
  if (mode == INT64_BIGINT || (mode == INT64_AUTO && unsafe)) return napi_create_bigint_int64(env, i, out);
  if (mode == INT64_STRING && unsafe) {
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%" PRId64, i);
    return napi_create_string_latin1(env, buf, (size_t)n, out);
  }
  return napi_create_double(env, (double)i, out);
}

// A scalar, or an empty container; nullptr in *out for a container with
// elements (they follow through the stack).
static napi_status Leaf(napi_env env, Interned *in, const msgpack_object &o, int mode, napi_value *out) {
  switch (o.type) {
    case MSGPACK_OBJECT_NIL:
      return napi_get_null(env, out);
    case MSGPACK_OBJECT_BOOLEAN:
      return napi_get_boolean(env, o.via.boolean, out);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
      return Unsigned(env, o.via.u64, mode, out);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
      return Signed(env, o.via.i64, mode, out);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
      return napi_create_double(env, o.via.f64, out);
    case MSGPACK_OBJECT_STR:
      return in->values.Get(env, o.via.str.ptr, o.via.str.size, out);
    case MSGPACK_OBJECT_BIN:
      return napi_create_buffer_copy(env, o.via.bin.size, o.via.bin.ptr, nullptr, out);
    case MSGPACK_OBJECT_ARRAY:
      *out = nullptr;
      return o.via.array.size ? napi_ok : napi_create_array(env, out);
    case MSGPACK_OBJECT_MAP:
      *out = nullptr;
      return o.via.map.size ? napi_ok : napi_create_object(env, out);
    default:
      return napi_invalid_arg;  // ext: refused by the core's check
  }
}

// A container being filled: its JS value exists, its elements are added one
// by one. The stack of them lives on the heap, so any depth the core's check
// allowed is fine on any thread's stack.
struct Filling {
  const msgpack_object *o;
  napi_value js;
  uint32_t next;
};

static napi_status Open(napi_env env, const msgpack_object *o, std::vector<Filling> *filling, napi_value *js) {
  if (o->type == MSGPACK_OBJECT_ARRAY) TRY(napi_create_array_with_length(env, o->via.array.size, js));
  else TRY(napi_create_object(env, js));
  filling->push_back({o, *js, 0});
  return napi_ok;
}

// Puts v under the innermost container's current key or index.
static napi_status Put(napi_env env, Interned *in, const Filling &f, uint32_t i, napi_value v) {
  if (f.o->type == MSGPACK_OBJECT_ARRAY) return napi_set_element(env, f.js, i, v);
  const msgpack_object &key = f.o->via.map.ptr[i].key;
  // The core's check lets only string keys through.
  if (key.type != MSGPACK_OBJECT_STR) return napi_invalid_arg;
  napi_value k;
  TRY(in->keys.Get(env, key.via.str.ptr, key.via.str.size, &k));
  if (key.via.str.size == 9 && memcmp(key.via.str.ptr, "__proto__", 9) == 0) {
    // A plain set would replace the prototype: define an own property.
    napi_property_descriptor d = {nullptr, k, nullptr, nullptr, nullptr, v, napi_default_jsproperty, nullptr};
    return napi_define_properties(env, f.js, 1, &d);
  }
  return napi_set_property(env, f.js, k, v);
}

napi_status ToJs(napi_env env, Interned *in, const msgpack_object &root, int mode, napi_value *out) {
  TRY(Leaf(env, in, root, mode, out));
  if (*out) return napi_ok;
  std::vector<Filling> filling;
  TRY(Open(env, &root, &filling, out));
  while (!filling.empty()) {
    Filling &f = filling.back();
    bool array = f.o->type == MSGPACK_OBJECT_ARRAY;
    uint32_t n = array ? f.o->via.array.size : f.o->via.map.size;
    if (f.next == n) {
      filling.pop_back();
      continue;
    }
    uint32_t i = f.next++;
    const msgpack_object *e = array ? &f.o->via.array.ptr[i] : &f.o->via.map.ptr[i].val;
    napi_value v;
    TRY(Leaf(env, in, *e, mode, &v));
    Filling parent = f;  // Open may move the stack
    if (!v) TRY(Open(env, e, &filling, &v));
    TRY(Put(env, in, parent, i, v));
  }
  return napi_ok;
}
