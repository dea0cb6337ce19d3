#include "tape.h"

#include "codec.h"

#include <stdlib.h>
#include <string.h>

/* String -> id, for keys and short values. Open addressing; entries are
 * never removed (ids must stay valid for the JS mirror). */
typedef struct {
  uint32_t hash;
  uint32_t id;   /* UINT32_MAX: empty */
  uint32_t len;
  uint64_t w[2]; /* the bytes, zero-padded, when len <= 16: compared as two words */
  char *bytes;   /* longer strings */
} str_slot;

typedef struct {
  str_slot *slots;
  size_t cap;    /* power of two, at least twice the limit */
  uint32_t n;
  uint32_t limit;
} str_table;

typedef struct {
  uint32_t hash;
  uint32_t id;   /* UINT32_MAX: empty */
  uint32_t n;
  uint32_t *keys;
  uint64_t *words; /* per key: len, w0, w1 (all keys <= 16 bytes), else NULL */
} shape_slot;

struct nx_tape_tables {
  str_table keys, vals;
  shape_slot *shapes;
  size_t shapes_cap;
  uint32_t nshapes;
  /* The shape last used by a map of each size (index: size, up to 64): maps
   * of a stream repeat, so it is tried first, key by key, before hashing. */
  shape_slot *hint[NX_TAPE_MAX_SHAPE_KEYS + 1];
  int broken;    /* an allocation failed: the JS mirror may be out of step */
};

/* Keys and short values are hashed once per occurrence in every event:
 * eight bytes a step. */
static uint32_t hash_bytes(const char *s, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  }
  if (i < n) {
    uint64_t w = 0;
    memcpy(&w, s + i, n - i);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
  }
  h ^= h >> 29;
  return (uint32_t)h;
}

static inline uint64_t low_bytes(uint64_t v, size_t n) {
  return n >= 8 ? v : (v & ((1ull << (8 * n)) - 1));
}

/* A string of at most 16 bytes as two zero-padded words. Strings come from
 * nx_decode, which leaves NX_DECODE_SLACK readable bytes after the payload:
 * two unaligned loads, masked, whatever the length. */
static inline void words16(const char *s, size_t n, uint64_t w[2]) {
  uint64_t a, b;
  memcpy(&a, s, 8);
  memcpy(&b, s + 8, 8);
  w[0] = low_bytes(a, n);
  w[1] = n > 8 ? low_bytes(b, n - 8) : 0;
}

static inline uint32_t hash_words(const uint64_t w[2], size_t n) {
  uint64_t h = (w[0] ^ (0x9E3779B97F4A7C15ull * (n + 1))) * 0xFF51AFD7ED558CCDull;
  h = (h ^ (h >> 32) ^ w[1]) * 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 29;
  return (uint32_t)h;
}

static int str_table_init(str_table *t, uint32_t limit) {
  t->cap = 1;
  while (t->cap < (size_t)limit * 2) t->cap <<= 1;
  t->slots = calloc(t->cap, sizeof(str_slot));
  if (!t->slots) return -1;
  for (size_t i = 0; i < t->cap; i++) t->slots[i].id = UINT32_MAX;
  t->n = 0;
  t->limit = limit;
  return 0;
}

static void str_table_free(str_table *t) {
  if (!t->slots) return;
  for (size_t i = 0; i < t->cap; i++) free(t->slots[i].bytes);  /* NULL for short ones */
  free(t->slots);
  t->slots = NULL;
}

/* The id of s; *added when it was new. UINT32_MAX when the table is full
 * and s is not in it. -1 only on out of memory. */
static int str_table_get(str_table *t, const char *s, size_t n, uint32_t *id, int *added) {
  uint64_t w[2] = {0, 0};
  int small = n <= 16;
  uint32_t h;
  if (small) {
    words16(s, n, w);
    h = hash_words(w, n);
  } else {
    h = hash_bytes(s, n);
  }
  size_t mask = t->cap - 1;
  *added = 0;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    str_slot *e = &t->slots[i];
    if (e->id == UINT32_MAX) {
      if (t->n >= t->limit) {
        *id = UINT32_MAX;
        return 0;
      }
      if (!small) {
        e->bytes = malloc(n);
        if (!e->bytes) return -1;
        memcpy(e->bytes, s, n);
      }
      e->w[0] = w[0];
      e->w[1] = w[1];
      e->len = (uint32_t)n;
      e->hash = h;
      e->id = t->n++;
      *id = e->id;
      *added = 1;
      return 0;
    }
    if (e->hash == h && e->len == n &&
        (small ? (e->w[0] == w[0] && e->w[1] == w[1]) : memcmp(e->bytes, s, n) == 0)) {
      *id = e->id;
      return 0;
    }
  }
}

nx_tape_tables *nx_tape_tables_new(void) {
  nx_tape_tables *t = calloc(1, sizeof(*t));
  if (!t) return NULL;
  t->shapes_cap = 1;
  while (t->shapes_cap < (size_t)NX_TAPE_SHAPES * 2) t->shapes_cap <<= 1;
  t->shapes = calloc(t->shapes_cap, sizeof(shape_slot));
  if (!t->shapes || str_table_init(&t->keys, NX_TAPE_KEYS) || str_table_init(&t->vals, NX_TAPE_VALS)) {
    nx_tape_tables_free(t);
    return NULL;
  }
  for (size_t i = 0; i < t->shapes_cap; i++) t->shapes[i].id = UINT32_MAX;
  return t;
}

void nx_tape_tables_free(nx_tape_tables *t) {
  if (!t) return;
  str_table_free(&t->keys);
  str_table_free(&t->vals);
  if (t->shapes) {
    for (size_t i = 0; i < t->shapes_cap; i++) {
      free(t->shapes[i].keys);
      free(t->shapes[i].words);
    }
    free(t->shapes);
  }
  free(t);
}

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
  if (str_table_get(&t->keys, k->ptr, k->size, id, &added)) return -1;
  if (added) {
    uint32_t off, len;
    if (put_str(tp, k->ptr, k->size, &off, &len) || op(tp, NX_T_NEWKEY) || ops3(tp, (int32_t)*id, (int32_t)off, (int32_t)len)) return -1;
  }
  return 0;
}

static uint32_t hash_ids(const uint32_t *ids, uint32_t n) {
  uint32_t h = 2166136261u;
  for (uint32_t i = 0; i < n; i++) h = (h ^ ids[i]) * 16777619u;
  return h ^ n;
}

/* The map's keys as (len, w0, w1) triples, for the speculative match; NULL
 * when a key is longer than 16 bytes. */
static uint64_t *key_words(const msgpack_object_map *m) {
  uint64_t *w = malloc((size_t)m->size * 3 * sizeof(uint64_t) + 1);
  if (!w) return NULL;
  for (uint32_t i = 0; i < m->size; i++) {
    const msgpack_object_str *k = &m->ptr[i].key.via.str;
    if (k->size > 16) {
      free(w);
      return NULL;
    }
    w[3 * i] = k->size;
    words16(k->ptr, k->size, &w[3 * i + 1]);
  }
  return w;
}

/* Does this map have exactly the keys of shape e? */
static inline int shape_matches(const shape_slot *e, const msgpack_object_map *m) {
  if (!e || !e->words || e->n != m->size) return 0;
  for (uint32_t i = 0; i < m->size; i++) {
    const msgpack_object_str *k = &m->ptr[i].key.via.str;
    const uint64_t *w = &e->words[3 * i];
    if (w[0] != k->size) return 0;
    uint64_t kw[2];
    words16(k->ptr, k->size, kw);
    if (kw[0] != w[1] || kw[1] != w[2]) return 0;
  }
  return 1;
}

/* The shape id of a key sequence, announcing it if new; UINT32_MAX when full. */
static int shape_id(nx_tape_tables *t, nx_tape *tp, const uint32_t *ids, uint32_t n, const msgpack_object_map *m, uint32_t *id) {
  uint32_t h = hash_ids(ids, n);
  size_t mask = t->shapes_cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    shape_slot *e = &t->shapes[i];
    if (e->id == UINT32_MAX) {
      if (t->nshapes >= NX_TAPE_SHAPES) {
        *id = UINT32_MAX;
        return 0;
      }
      e->keys = malloc((n ? n : 1) * sizeof(uint32_t));
      if (!e->keys) return -1;
      if (n) memcpy(e->keys, ids, n * sizeof(uint32_t));
      e->words = key_words(m); /* NULL: no fast match for this shape, still correct */
      e->n = n;
      e->hash = h;
      e->id = t->nshapes++;
      *id = e->id;
      if (n <= NX_TAPE_MAX_SHAPE_KEYS) t->hint[n] = e;
      if (op(tp, NX_T_NEWSHAPE) || op(tp, (int32_t)e->id) || op(tp, (int32_t)n)) return -1;
      for (uint32_t k = 0; k < n; k++)
        if (op(tp, (int32_t)ids[k])) return -1;
      return 0;
    }
    if (e->hash == h && e->n == n && memcmp(e->keys, ids, n * sizeof(uint32_t)) == 0) {
      *id = e->id;
      if (n <= NX_TAPE_MAX_SHAPE_KEYS) t->hint[n] = e;
      return 0;
    }
  }
}

static int put_value(nx_tape_tables *t, nx_tape *tp, const msgpack_object *o);

static int put_map(nx_tape_tables *t, nx_tape *tp, const msgpack_object_map *m) {
  uint32_t ids[NX_TAPE_MAX_SHAPE_KEYS];
  int shaped = m->size <= NX_TAPE_MAX_SHAPE_KEYS;
  /* The same keys as the last map of this size: no hashing at all. Its keys
   * were announced when the shape was. */
  if (shaped && shape_matches(t->hint[m->size], m)) {
    if (op(tp, NX_T_MAP) || op(tp, (int32_t)t->hint[m->size]->id)) return -1;
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
        if (str_table_get(&t->vals, o->via.str.ptr, o->via.str.size, &id, &added)) return -1;
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
