#include <cinttypes>
#include <cstdio>
#include <cstring>

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

napi_status ToJs(napi_env env, Interned *in, const msgpack_object &o, int mode, napi_value *out) {
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
    case MSGPACK_OBJECT_ARRAY: {
      TRY(napi_create_array_with_length(env, o.via.array.size, out));
      for (uint32_t i = 0; i < o.via.array.size; i++) {
        napi_value v;
        TRY(ToJs(env, in, o.via.array.ptr[i], mode, &v));
        TRY(napi_set_element(env, *out, i, v));
      }
      return napi_ok;
    }
    case MSGPACK_OBJECT_MAP: {
      TRY(napi_create_object(env, out));
      for (uint32_t i = 0; i < o.via.map.size; i++) {
        const msgpack_object_kv &kv = o.via.map.ptr[i];
        // The core's check lets only string keys through.
        if (kv.key.type != MSGPACK_OBJECT_STR) return napi_invalid_arg;
        napi_value k, v;
        TRY(in->keys.Get(env, kv.key.via.str.ptr, kv.key.via.str.size, &k));
        TRY(ToJs(env, in, kv.val, mode, &v));
        if (kv.key.via.str.size == 9 && memcmp(kv.key.via.str.ptr, "__proto__", 9) == 0) {
          // A plain set would replace the prototype: define an own property.
          napi_property_descriptor d = {nullptr, k, nullptr, nullptr, nullptr, v, napi_default_jsproperty, nullptr};
          TRY(napi_define_properties(env, *out, 1, &d));
        } else {
          TRY(napi_set_property(env, *out, k, v));
        }
      }
      return napi_ok;
    }
    default:
      return napi_invalid_arg;  // ext: refused by the core's check
  }
}
