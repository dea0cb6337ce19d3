#include <cmath>
#include <cstdio>
#include <ctime>
#include <vector>

#include "codec.h"
#include "convert.h"

// Where a value being packed sits: a container there would be at `level`
// (the payload's root is 1) and may be at `limit` at most.
struct Level {
  uint32_t level;
  uint32_t limit;
  bool doc_rule;  // the root map's keys set the limit of their values
};

// A container being packed: its elements follow one by one. The stack of
// them lives on the heap, so any depth max_levels allows is fine on any
// thread (recursing took about half a KiB of native stack a level, and a
// worker_thread's stack may be small).
struct Open {
  napi_value container;
  napi_value keys;  // a map's own enumerable string keys; nullptr for an array
  uint32_t next, n;
  Level children;
};

static bool Fail(napi_env env, const char *msg) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_type_error(env, "NEXA_ENCODE", msg);
  return false;
}

#define OK(call) \
  if ((call) != napi_ok) return Fail(env, "could not read a value to encode")

static bool PackString(napi_env env, msgpack_packer *pk, napi_value v) {
  char small[256];
  size_t len = 0;
  OK(napi_get_value_string_utf8(env, v, nullptr, 0, &len));
  if (len < sizeof(small)) {
    OK(napi_get_value_string_utf8(env, v, small, sizeof(small), &len));
    return msgpack_pack_str_with_body(pk, small, len) == 0;
  }
  std::vector<char> buf(len + 1);
  OK(napi_get_value_string_utf8(env, v, buf.data(), buf.size(), &len));
  return msgpack_pack_str_with_body(pk, buf.data(), len) == 0;
}

static bool PackNumber(napi_env env, msgpack_packer *pk, napi_value v) {
  double d;
  OK(napi_get_value_double(env, v, &d));
  // Integers in the exact range go out in their smallest encoding, as the
  // server does; everything else (fractions, -0, NaN, huge) as float64.
  if (std::trunc(d) == d && std::fabs(d) <= 9007199254740991.0 && !(d == 0 && std::signbit(d))) {
    if (d < 0) return msgpack_pack_int64(pk, (int64_t)d) == 0;
    return msgpack_pack_uint64(pk, (uint64_t)d) == 0;
  }
  return msgpack_pack_double(pk, d) == 0;
}

static bool PackBigInt(napi_env env, msgpack_packer *pk, napi_value v) {
  int64_t i;
  bool lossless = false;
  OK(napi_get_value_bigint_int64(env, v, &i, &lossless));
  if (lossless) return msgpack_pack_int64(pk, i) == 0;
  uint64_t u;
  OK(napi_get_value_bigint_uint64(env, v, &u, &lossless));
  if (lossless) return msgpack_pack_uint64(pk, u) == 0;
  napi_throw_range_error(env, "NEXA_ENCODE", "a BigInt outside the 64-bit range cannot be sent");
  return false;
}

static bool PackDate(napi_env env, msgpack_packer *pk, napi_value v) {
  double ms;
  OK(napi_get_date_value(env, v, &ms));
  if (!std::isfinite(ms)) return Fail(env, "an invalid Date cannot be sent");
  // Same text as Date.prototype.toISOString (JSON's form of a date).
  time_t secs = (time_t)std::floor(ms / 1000.0);
  int millis = (int)(ms - (double)secs * 1000.0);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[40];
  int n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return msgpack_pack_str_with_body(pk, buf, (size_t)n) == 0;
}

static bool TooDeep(napi_env env, Level at) {
  char msg[160];
  if (at.doc_rule)
    snprintf(msg, sizeof(msg), "a document nested more than %d levels deep (NexaClient.MAX_DEPTH) cannot be sent; a cycle?", NX_MAX_DOC_DEPTH);
  else
    snprintf(msg, sizeof(msg), "a value nested more than %u levels deep cannot be sent; a cycle?", (unsigned)at.limit);
  return Fail(env, msg);
}

// The limit under one key of the root map (the document rule).
static bool KeyLimit(napi_env env, napi_value key, Level *child) {
  char buf[24];  // longer than any key nx_doc_envelope names
  size_t len = 0;
  OK(napi_get_value_string_utf8(env, key, buf, sizeof(buf), &len));
  child->limit = NX_MAX_DOC_DEPTH + nx_doc_envelope(buf, len);
  return true;
}

// A binary value, packed as bin; *done false when v is none.
static bool PackBinary(napi_env env, msgpack_packer *pk, napi_value v, bool *done) {
  bool flag = false;
  OK(napi_is_buffer(env, v, &flag));
  void *data = nullptr;
  size_t len = 0;
  if (flag) {
    OK(napi_get_buffer_info(env, v, &data, &len));
  } else {
    OK(napi_is_typedarray(env, v, &flag));
    if (!flag) {
      *done = false;
      return true;
    }
    napi_typedarray_type t;
    size_t offset;
    napi_value ab;
    OK(napi_get_typedarray_info(env, v, &t, &len, &data, &ab, &offset));
    if (t != napi_uint8_array && t != napi_uint8_clamped_array && t != napi_int8_array)
      return Fail(env, "only Buffer and Uint8Array binary values can be sent");
  }
  *done = true;
  return msgpack_pack_bin_with_body(pk, data, len) == 0;
}

// Packs an object's header (array or map) and, when it has elements,
// opens it on the stack; binaries and dates are packed whole.
static bool PackObject(napi_env env, msgpack_packer *pk, napi_value v, Level at, std::vector<Open> *open) {
  bool flag = false;
  if (!PackBinary(env, pk, v, &flag)) return false;
  if (flag) return true;
  OK(napi_is_date(env, v, &flag));
  if (flag) return PackDate(env, pk, v);
  if (at.level > at.limit) return TooDeep(env, at);
  Open o = {v, nullptr, 0, 0, at};
  o.children.level++;
  OK(napi_is_array(env, v, &flag));
  if (flag) {
    OK(napi_get_array_length(env, v, &o.n));
    if (msgpack_pack_array(pk, o.n)) return false;
  } else {
    OK(napi_get_all_property_names(env, v, napi_key_own_only,
                                   (napi_key_filter)(napi_key_enumerable | napi_key_skip_symbols),
                                   napi_key_numbers_to_strings, &o.keys));
    OK(napi_get_array_length(env, o.keys, &o.n));
    if (msgpack_pack_map(pk, o.n)) return false;
  }
  if (o.n > 0) open->push_back(o);
  return true;
}

// Packs one value: a scalar whole, a container's header (its elements
// follow through the stack).
static bool PackValue(napi_env env, msgpack_packer *pk, napi_value v, Level at, std::vector<Open> *open) {
  napi_valuetype t;
  OK(napi_typeof(env, v, &t));
  bool b;
  switch (t) {
    case napi_undefined:
    case napi_null:
      return msgpack_pack_nil(pk) == 0;
    case napi_boolean:
      OK(napi_get_value_bool(env, v, &b));
      return (b ? msgpack_pack_true(pk) : msgpack_pack_false(pk)) == 0;
    case napi_number:
      return PackNumber(env, pk, v);
    case napi_bigint:
      return PackBigInt(env, pk, v);
    case napi_string:
      return PackString(env, pk, v);
    case napi_object:
      return PackObject(env, pk, v, at, open);
    default:
      return Fail(env, "functions and symbols cannot be sent");
  }
}

// The next element of the innermost open container (a map's key is packed
// here), closing the containers that are done; false in *more when none is
// left.
static bool NextElement(napi_env env, msgpack_packer *pk, std::vector<Open> *open, napi_value *v, Level *at, bool *more) {
  while (!open->empty() && open->back().next == open->back().n) open->pop_back();
  *more = !open->empty();
  if (!*more) return true;
  Open &o = open->back();
  uint32_t i = o.next++;
  *at = o.children;
  if (!o.keys) {
    OK(napi_get_element(env, o.container, i, v));
    return true;
  }
  napi_value k;
  OK(napi_get_element(env, o.keys, i, &k));
  OK(napi_get_property(env, o.container, k, v));
  if (at->doc_rule && at->level == 2 && !KeyLimit(env, k, at)) return false;
  return PackString(env, pk, k);
}

bool PackPayload(napi_env env, msgpack_packer *pk, napi_value v, uint32_t max_levels) {
  Level at = {1, max_levels ? max_levels : NX_MAX_DOC_DEPTH + 1, max_levels == 0};
  std::vector<Open> open;
  bool more = true;
  while (more) {
    if (!PackValue(env, pk, v, at, &open) || !NextElement(env, pk, &open, &v, &at, &more)) return false;
  }
  return true;
}
