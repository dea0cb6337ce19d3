// Hands a decoded batch to the JS handler on the main thread: entries, tape
// and string segments in typed arrays reused from batch to batch.
#ifndef NX_HANDOVER_H
#define NX_HANDOVER_H

#include <napi.h>

#include <cstdint>

#include "nx.h"

class Handover {
 public:
  // Calls handler with the batch (see handover.cc for its arguments). The
  // batch goes back to worker (nullptr: freed) before the call.
  void Hand(Napi::Env env, Napi::Function handler, nx_batch *batch, nx_worker *worker);
  // Lets the kept arrays go (the addon's teardown).
  void Release(napi_env e);

 private:
  // The typed arrays batches are handed over in: entries, ops, nums, bins.
  struct Slot {
    napi_ref ref = nullptr;
    size_t cap = 0;       // elements
    bool oneoff = false;  // made for one large batch, not kept
  };
  static constexpr size_t kScratchMaxBytes = 1u << 20;

  static void *Scratch(napi_env e, Slot &s, napi_typedarray_type type, size_t elem, size_t n, bool *resend);
  static bool FillEntries(napi_env e, const nx_batch *batch, uint32_t *entries, napi_value undef, napi_value *values, uint32_t *n);
  static void CopyTape(const nx_tape *t, void *ops, void *nums, void *bins);
  static bool MakeSegments(napi_env e, const nx_tape *t, napi_value *str);
  bool HandArrays(napi_env e, bool oneoff, napi_value *arrays);
  void DropOneoffs(napi_env e);

  Slot slots_[4];
  bool resend_ = true;  // JS has not got the current arrays
};

#endif
