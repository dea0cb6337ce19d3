// Interned JS strings for property keys and small repeated values.
// V8 wants internalized strings as property keys: creating them once and
// reusing them is what makes native object building beat pure-JS decoders.
// N-API (version 8) cannot reference a string directly, so the strings live
// in one JS array held by a reference; each batch looks a slot up at most
// once and then reuses the handle.
#ifndef NX_STRCACHE_H
#define NX_STRCACHE_H

#include <node_api.h>

#include <cstdint>
#include <cstring>
#include <vector>

class StrCache {
 public:
  StrCache(size_t slots, size_t max_len, bool as_keys)
      : slots_(slots), max_len_(max_len), as_keys_(as_keys), entries_(slots), local_(slots), local_gen_(slots, 0) {}
  // Creates the backing array; call once with a live env.
  napi_status Init(napi_env env);
  void Release(napi_env env);
  // Call at the start of every conversion pass (handles from an earlier
  // pass are dead).
  void NewPass() { gen_++; }
  // The JS string for bytes; cached when it fits.
  napi_status Get(napi_env env, const char *s, size_t len, napi_value *out);

 private:
  struct Entry {
    uint32_t len = UINT32_MAX;  // UINT32_MAX: empty
    char bytes[64];
  };
  napi_status Create(napi_env env, const char *s, size_t len, napi_value *out);
  size_t slots_;
  size_t max_len_;
  bool as_keys_;
  std::vector<Entry> entries_;
  std::vector<napi_value> local_;
  std::vector<uint32_t> local_gen_;
  uint32_t gen_ = 1;
  napi_ref array_ = nullptr;
};

#endif
