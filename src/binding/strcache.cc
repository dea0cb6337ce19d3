#include "strcache.h"

// Node exports this from 20.12 on (experimental in its headers); a weak
// reference lets the addon use it where present and fall back elsewhere.
extern "C" napi_status node_api_create_property_key_utf8(napi_env env, const char *str, size_t length,
                                                          napi_value *result) __attribute__((weak));

napi_status StrCache::Init(napi_env env) {
  napi_value arr;
  napi_status st = napi_create_array_with_length(env, slots_, &arr);
  if (st != napi_ok) return st;
  return napi_create_reference(env, arr, 1, &array_);
}

void StrCache::Release(napi_env env) {
  if (array_) napi_delete_reference(env, array_);
  array_ = nullptr;
}

napi_status StrCache::Create(napi_env env, const char *s, size_t len, napi_value *out) {
  if (as_keys_ && node_api_create_property_key_utf8) return node_api_create_property_key_utf8(env, s, len, out);
  return napi_create_string_utf8(env, s, len, out);
}

static inline uint32_t Hash(const char *s, size_t len) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h ^ (uint32_t)len;
}

napi_status StrCache::Get(napi_env env, const char *s, size_t len, napi_value *out) {
  if (len > max_len_ || len > sizeof(Entry::bytes) || !array_) return Create(env, s, len, out);
  size_t i = Hash(s, len) % slots_;
  Entry &e = entries_[i];
  if (e.len == len && memcmp(e.bytes, s, len) == 0) {
    if (local_gen_[i] == gen_) {
      *out = local_[i];
      return napi_ok;
    }
    napi_value arr;
    napi_status st = napi_get_reference_value(env, array_, &arr);
    if (st == napi_ok) st = napi_get_element(env, arr, (uint32_t)i, out);
    if (st != napi_ok) return st;
  } else {
    napi_status st = Create(env, s, len, out);
    // First come keeps the slot: keys repeat, so the common ones settle in
    // early; a colliding string is simply made afresh each time.
    if (st != napi_ok || e.len != UINT32_MAX) return st;
    napi_value arr;
    st = napi_get_reference_value(env, array_, &arr);
    if (st == napi_ok) st = napi_set_element(env, arr, (uint32_t)i, *out);
    if (st != napi_ok) return st;
    e.len = (uint32_t)len;
    memcpy(e.bytes, s, len);
  }
  local_[i] = *out;
  local_gen_[i] = gen_;
  return napi_ok;
}
