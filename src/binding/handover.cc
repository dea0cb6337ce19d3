// The batch handover to JS (handover.h). N-API calls fail while an
// environment is being torn down (a worker terminated mid-stream): every
// result is checked, never assumed.
#include "handover.h"

#include <cstring>

// Makes slot `s` a typed array of at least `n` elements and returns its
// data, or nullptr. Arrays up to kScratchMaxBytes are kept and reused for
// the next batches (no allocation, no zero-filling, no garbage per batch);
// a larger one is made for this batch alone. *resend tells whether JS must be
// handed the arrays again (this one is new, or the last was a one-off).
void *Handover::Scratch(napi_env e, Slot &s, napi_typedarray_type type, size_t elem, size_t n, bool *resend) {
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
  bool keep = n * elem <= Handover::kScratchMaxBytes;
  if (keep) {
    cap = s.ref && !s.oneoff && s.cap * 2 > n ? s.cap * 2 : n;
    if (cap < 1024) cap = 1024;
    if (cap * elem > Handover::kScratchMaxBytes) cap = Handover::kScratchMaxBytes / elem;
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

// Writes the entries, and the values of those that have one off the tape (a
// failure's reason, a terminal item's [code, message, payload]); *n: how
// many entries.
bool Handover::FillEntries(napi_env e, const nx_batch *batch, uint32_t *entries, napi_value undef, napi_value *values,
                           uint32_t *n_out) {
  uint32_t n = 0;
  bool ok = true;
  for (size_t i = 0; i < batch->n; n++) {
    const nx_item &it = batch->items[i];
    uint32_t *entry = entries + 5 * n;
    entry[0] = it.kind;
    entry[1] = it.conn_id;
    entry[2] = it.req_id;
    entry[3] = it.msg_type;
    entry[4] = it.on_tape;
    if (it.kind == NX_EV_CHANGE) {
      size_t j = i;
      uint64_t bytes = 0;
      while (j < batch->n && batch->items[j].kind == NX_EV_CHANGE && batch->items[j].conn_id == it.conn_id) bytes += batch->items[j++].bytes;
      entry[2] = bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;  // the run's payload bytes
      entry[4] = (uint32_t)(j - i);  // that many events, next on the tape
      i = j;
      continue;
    }
    napi_value value;
    if (it.kind == NX_EV_UNDECODABLE || it.kind == NX_EV_REPLY_FAILED) {
      // Why it could not be decoded.
      if (!it.message || napi_create_string_utf8(e, it.message, NAPI_AUTO_LENGTH, &value) != napi_ok) napi_get_null(e, &value);
    } else if (it.kind == NX_EV_OPEN_FAILED || it.kind == NX_EV_CLOSED) {
      // [code, message, null]: JS puts a refusal's payload, from the tape, last.
      napi_value code, msg, none;
      napi_create_array_with_length(e, 3, &value);
      if (it.code) napi_create_string_utf8(e, it.code, NAPI_AUTO_LENGTH, &code);
      else napi_get_null(e, &code);
      if (it.message) napi_create_string_utf8(e, it.message, NAPI_AUTO_LENGTH, &msg);
      else napi_get_null(e, &msg);
      napi_get_null(e, &none);
      napi_set_element(e, value, 0, code);
      napi_set_element(e, value, 1, msg);
      napi_set_element(e, value, 2, none);
    } else {
      i++;  // its payload is on the tape, or it has none
      continue;
    }
    if (*values == undef && napi_create_array(e, values) != napi_ok) ok = false;
    if (ok && napi_set_element(e, *values, n, value) != napi_ok) ok = false;
    i++;
  }
  *n_out = n;
  return ok;
}

void Handover::CopyTape(const nx_tape *t, void *ops, void *nums, void *bins) {
  if (t->nops) memcpy(ops, t->ops, t->nops * 4);
  if (t->nnums) memcpy(nums, t->nums, t->nnums * 8);
  if (t->nbins) memcpy(bins, t->bins, t->nbins);
}

// One string per segment (src/core/tape.h): an event kept by the program
// keeps its segment's text alive, not the whole batch's.
bool Handover::MakeSegments(napi_env e, const nx_tape *t, napi_value *str) {
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

// [entries, ops, nums, bins, oneoff] for JS, when they changed.
bool Handover::HandArrays(napi_env e, bool oneoff, napi_value *arrays) {
  napi_value v;
  bool ok = napi_create_array_with_length(e, 5, arrays) == napi_ok;
  for (uint32_t k = 0; ok && k < 4; k++)
    ok = napi_get_reference_value(e, slots_[k].ref, &v) == napi_ok && v && napi_set_element(e, *arrays, k, v) == napi_ok;
  return ok && napi_get_boolean(e, oneoff, &v) == napi_ok && napi_set_element(e, *arrays, 4, v) == napi_ok;
}

// A one-off array (a batch past kScratchMaxBytes) is let go after its
// call, here and in JS (arrays[4]), so an idle stream does not keep it.
void Handover::DropOneoffs(napi_env e) {
  for (Slot &sl : slots_) {
    if (!sl.oneoff) continue;
    napi_delete_reference(e, sl.ref);
    sl.ref = nullptr;
    sl.cap = 0;
    sl.oneoff = false;
  }
}

// The JS handler gets (n, values, str, arrays):
//   n       entries in this batch; entry i is entries[5i .. 5i+4]:
//           kind, connId, the request id (a change run: its payload
//           bytes), msgType, and how many values of the entry are next on
//           the tape (a change run: its events; an answer, OPEN or a
//           refused handshake's terminal item: 1)
//   values  an array with entry i's value where it has one off the tape
//           ([code, message, null] for terminal items, the payload last
//           from the tape; the reason for undecodable events and answers),
//           or undefined when no entry has one
//   str     the strings on the batch's tape, as an array of segments
//           (latin1 when all ASCII), or undefined when the tape is empty
//   arrays  [entries Uint32Array, ops Uint32Array, nums Float64Array,
//           bins Uint8Array, oneoff] when they changed since the last batch,
//           else undefined. They are reused from batch to batch: JS reads
//           them during the call and keeps nothing that points into them.
//           oneoff: one of them was made for this batch alone (too large to
//           keep), so JS drops them after the call.
// Consecutive change events of one connection make one entry whose count
// says how many events are next on the tape: per event (and per answer), the
// only work left is building it, in JS.
void Handover::Hand(Napi::Env env, Napi::Function handler, nx_batch *batch, nx_worker *worker) {
  napi_env e = env;
  const nx_tape *t = &batch->tape;
  bool resend = resend_;
  resend_ = true;  // until JS has been handed this batch's arrays
  uint32_t *entries = static_cast<uint32_t *>(Scratch(e, slots_[0], napi_uint32_array, 4, batch->n * 5, &resend));
  void *ops = Scratch(e, slots_[1], napi_uint32_array, 4, t->nops, &resend);
  void *nums = Scratch(e, slots_[2], napi_float64_array, 8, t->nnums, &resend);
  void *bins = Scratch(e, slots_[3], napi_uint8_array, 1, t->nbins, &resend);
  napi_value undef, values, str, arrays;
  if (!entries || !ops || !nums || !bins || napi_get_undefined(e, &undef) != napi_ok) {  // the environment is going away
    nx_batch_free(batch);
    return;
  }
  values = str = arrays = undef;
  uint32_t n = 0;
  bool ok = FillEntries(e, batch, entries, undef, &values, &n);
  if (t->values > 0) {
    CopyTape(t, ops, nums, bins);
    ok = ok && MakeSegments(e, t, &str);
  }
  bool oneoff = false;
  for (const Slot &sl : slots_) oneoff = oneoff || sl.oneoff;
  if (ok && resend) ok = HandArrays(e, oneoff, &arrays);
  // Its memory goes back to the worker for the next batches.
  if (worker) nx_worker_recycle(worker, batch);
  else nx_batch_free(batch);
  napi_value count;
  if (!ok || napi_create_uint32(e, n, &count) != napi_ok) return;  // could not build it: only while torn down
  resend_ = oneoff;
  if (oneoff) DropOneoffs(e);
  handler.Call({Napi::Value(env, count), Napi::Value(env, values), Napi::Value(env, str), Napi::Value(env, arrays)});
}

void Handover::Release(napi_env e) {
  for (Slot &s : slots_)
    if (s.ref) napi_delete_reference(e, s.ref);
}
