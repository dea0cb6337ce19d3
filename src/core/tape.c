/* Flattening a decoded change event onto the tape (tape.h), interning its
 * keys, shapes and short values (intern.c) and announcing what is new. */
#include "intern.h"

#include <stdlib.h>
#include <string.h>

void nx_tape_reset(nx_tape *tape) {
  tape->nops = tape->nnums = tape->nstr = tape->str16 = tape->nbins = tape->nsegs = 0;
  tape->non_ascii = 0;
  tape->events = 0;
}

void nx_tape_free(nx_tape *tape) {
  free(tape->segs);
  free(tape->ops);
  free(tape->nums);
  free(tape->str);
  free(tape->bins);
  memset(tape, 0, sizeof(*tape));
}

/* ---- appending ---- */

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : 256;
  while (c < need) c *= 2;
  void *q = realloc(*p, c * elem);
  if (!q) return -1;
  *p = q;
  *cap = c;
  return 0;
}

/* Room for one event is reserved before it is written (see nx_tape_event):
 * the writes below need no checks. */
static inline int op(nx_tape *tp, int32_t v) {
  tp->ops[tp->nops++] = v;
  return 0;
}

static inline int ops3(nx_tape *tp, int32_t a, int32_t b, int32_t c) {
  int32_t *o = tp->ops + tp->nops;
  o[0] = a;
  o[1] = b;
  o[2] = c;
  tp->nops += 3;
  return 0;
}

/* Copies a string into the batch string; its UTF-16 offset and length. */
static int put_str(nx_tape *tp, const char *s, uint32_t n, uint32_t *off16, uint32_t *len16) {
  memcpy(tp->str + tp->nstr, s, n);
  tp->nstr += n;
  /* UTF-16 units: one per UTF-8 sequence, two for a 4-byte one. The core's
   * check has already refused invalid UTF-8. */
  uint32_t units = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    if (w & 0x8080808080808080ull) break;
    units += 8;
  }
  for (; i < n; i++) {
    uint8_t c = (uint8_t)s[i];
    if (c < 0x80) units++;
    else if ((c & 0xC0) != 0x80) units += (c >= 0xF0) ? 2 : 1;
  }
  if (units != n) tp->non_ascii = 1;
  *off16 = (uint32_t)tp->str16;
  *len16 = units;
  tp->str16 += units;
  return 0;
}

static int put_plain_str(nx_tape *tp, const char *s, uint32_t n) {
  uint32_t off, len;
  if (put_str(tp, s, n, &off, &len)) return -1;
  return ops3(tp, NX_T_STR, (int32_t)off, (int32_t)len);
}

static inline int put_num(nx_tape *tp, double d) {
  tp->nums[tp->nnums++] = d;
  return op(tp, NX_T_NUM);
}

/* A key's id, announcing it if new; UINT32_MAX when not interned. */
static int key_id(nx_tape_tables *t, nx_tape *tp, const msgpack_object_str *k, uint32_t *id) {
  if (k->size > NX_TAPE_MAX_KEY) {
    *id = UINT32_MAX;
    return 0;
  }
  int added;
  if (nx__intern_str(&t->keys, k->ptr, k->size, id, &added)) return -1;
  if (added) {
    uint32_t off, len;
    if (put_str(tp, k->ptr, k->size, &off, &len) || op(tp, NX_T_NEWKEY) || ops3(tp, (int32_t)*id, (int32_t)off, (int32_t)len)) return -1;
  }
  return 0;
}

/* The shape id of a key sequence, announcing it if new; UINT32_MAX when full. */
static int shape_id(nx_tape_tables *t, nx_tape *tp, const uint32_t *ids, uint32_t n, const msgpack_object_map *m, uint32_t *id) {
  int added;
  if (nx__intern_shape(t, ids, n, m, id, &added)) return -1;
  if (added) {
    if (op(tp, NX_T_NEWSHAPE) || op(tp, (int32_t)*id) || op(tp, (int32_t)n)) return -1;
    for (uint32_t k = 0; k < n; k++)
      if (op(tp, (int32_t)ids[k])) return -1;
  }
  return 0;
}

static int put_value(nx_tape_tables *t, nx_tape *tp, const msgpack_object *o);

static int put_map(nx_tape_tables *t, nx_tape *tp, const msgpack_object_map *m) {
  uint32_t ids[NX_TAPE_MAX_SHAPE_KEYS];
  int shaped = m->size <= NX_TAPE_MAX_SHAPE_KEYS;
  /* The same keys as the last map of this size: no hashing at all. Its keys
   * were announced when the shape was. */
  uint32_t hinted = nx__intern_hinted_shape(t, m);
  if (hinted != UINT32_MAX) {
    if (op(tp, NX_T_MAP) || op(tp, (int32_t)hinted)) return -1;
    for (uint32_t i = 0; i < m->size; i++)
      if (put_value(t, tp, &m->ptr[i].val)) return -1;
    return 0;
  }
  for (uint32_t i = 0; i < m->size; i++) {
    const msgpack_object *k = &m->ptr[i].key;
    uint32_t id = UINT32_MAX;
    if (k->type == MSGPACK_OBJECT_STR && key_id(t, tp, &k->via.str, &id)) return -1;
    if (id == UINT32_MAX) shaped = 0;
    else if (i < NX_TAPE_MAX_SHAPE_KEYS) ids[i] = id;
  }
  uint32_t sid = UINT32_MAX;
  if (shaped && shape_id(t, tp, ids, m->size, m, &sid)) return -1;
  if (sid != UINT32_MAX) {
    if (op(tp, NX_T_MAP) || op(tp, (int32_t)sid)) return -1;
    for (uint32_t i = 0; i < m->size; i++)
      if (put_value(t, tp, &m->ptr[i].val)) return -1;
    return 0;
  }
  if (op(tp, NX_T_MAPK) || op(tp, (int32_t)m->size)) return -1;
  for (uint32_t i = 0; i < m->size; i++) {
    const msgpack_object *k = &m->ptr[i].key;
    uint32_t id = UINT32_MAX;
    /* Keys are strings (the core's check); looked up again, already announced. */
    if (k->type == MSGPACK_OBJECT_STR && key_id(t, tp, &k->via.str, &id)) return -1;
    if (id != UINT32_MAX) {
      if (op(tp, NX_T_KEY) || op(tp, (int32_t)id)) return -1;
    } else if (put_plain_str(tp, k->type == MSGPACK_OBJECT_STR ? k->via.str.ptr : "", k->type == MSGPACK_OBJECT_STR ? k->via.str.size : 0)) {
      return -1;
    }
    if (put_value(t, tp, &m->ptr[i].val)) return -1;
  }
  return 0;
}

static int put_value(nx_tape_tables *t, nx_tape *tp, const msgpack_object *o) {
  switch (o->type) {
    case MSGPACK_OBJECT_NIL:
      return op(tp, NX_T_NULL);
    case MSGPACK_OBJECT_BOOLEAN:
      return op(tp, o->via.boolean ? NX_T_TRUE : NX_T_FALSE);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
      if (o->via.u64 <= UINT32_MAX) return put_num(tp, (double)o->via.u64);
      return ops3(tp, NX_T_U64, (int32_t)(uint32_t)o->via.u64, (int32_t)(uint32_t)(o->via.u64 >> 32));
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
      if (o->via.i64 >= INT32_MIN) return put_num(tp, (double)o->via.i64);
      return ops3(tp, NX_T_I64, (int32_t)(uint32_t)(uint64_t)o->via.i64, (int32_t)(uint32_t)((uint64_t)o->via.i64 >> 32));
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
      return put_num(tp, o->via.f64);
    case MSGPACK_OBJECT_STR: {
      if (o->via.str.size <= NX_TAPE_MAX_VAL) {
        uint32_t id;
        int added;
        if (nx__intern_str(&t->vals, o->via.str.ptr, o->via.str.size, &id, &added)) return -1;
        if (id != UINT32_MAX) {
          if (added) {
            uint32_t off, len;
            if (put_str(tp, o->via.str.ptr, o->via.str.size, &off, &len) || op(tp, NX_T_NEWVAL) ||
                ops3(tp, (int32_t)id, (int32_t)off, (int32_t)len))
              return -1;
          }
          return op(tp, NX_T_VAL) || op(tp, (int32_t)id);
        }
      }
      return put_plain_str(tp, o->via.str.ptr, o->via.str.size);
    }
    case MSGPACK_OBJECT_BIN:
      if (o->via.bin.size) memcpy(tp->bins + tp->nbins, o->via.bin.ptr, o->via.bin.size);
      if (ops3(tp, NX_T_BIN, (int32_t)tp->nbins, (int32_t)o->via.bin.size)) return -1;
      tp->nbins += o->via.bin.size;
      return 0;
    case MSGPACK_OBJECT_ARRAY:
      if (op(tp, NX_T_ARR) || op(tp, (int32_t)o->via.array.size)) return -1;
      for (uint32_t i = 0; i < o->via.array.size; i++)
        if (put_value(t, tp, &o->via.array.ptr[i])) return -1;
      return 0;
    case MSGPACK_OBJECT_MAP:
      return put_map(t, tp, &o->via.map);
    default:
      return op(tp, NX_T_NULL); /* ext: refused by the core's check before this */
  }
}

int nx_tape_event(nx_tape_tables *t, nx_tape *tape, const msgpack_object *root, size_t payload_len) {
  if (t->broken) return -1;
  /* Every MessagePack element takes at least one payload byte and becomes at
   * most 3 ops, plus announcements (a new key: 4 ops and its bytes; a new
   * shape: 3 + one per key); numbers, strings and bins never exceed the
   * payload. So 8 ops a byte, and the payload's size of the rest, suffice. */
  size_t n = payload_len + 16;
  if (grow((void **)&tape->ops, &tape->cap_ops, tape->nops + 8 * n + 1, sizeof(int32_t)) ||
      grow((void **)&tape->nums, &tape->cap_nums, tape->nnums + n, sizeof(double)) ||
      grow((void **)&tape->str, &tape->cap_str, tape->nstr + n, 1) ||
      grow((void **)&tape->bins, &tape->cap_bins, tape->nbins + n, 1) ||
      grow((void **)&tape->segs, &tape->cap_segs, tape->nsegs + 1, sizeof(size_t))) {
    t->broken = 1;
    return -1;
  }
  /* A new segment once the current one holds NX_TAPE_SEG bytes, and for an
   * event that may bring more than that alone (its strings are at most its
   * payload's size): small events share segments of under 2 * NX_TAPE_SEG,
   * a large one has its own. */
  size_t seg_begin = tape->nsegs ? tape->segs[tape->nsegs - 1] : 0;
  size_t seg_len = tape->nstr - seg_begin;
  if (seg_len >= NX_TAPE_SEG || (seg_len > 0 && payload_len > NX_TAPE_SEG)) {
    tape->segs[tape->nsegs++] = tape->nstr;
    tape->str16 = 0;
    op(tape, NX_T_SEG);
  }
  /* Offsets and lengths are int32 on the tape: they count within a segment,
   * which holds one frame's strings at most past NX_TAPE_SEG, and frames are
   * bounded by maxFrameBytes (< 512 MiB). */
  if (put_value(t, tape, root)) {
    t->broken = 1; /* announcements may be lost: never emit again */
    return -1;
  }
  tape->events++;
  return 0;
}
