/* Flattening a change event or an answer onto the tape (tape.h) straight from
 * its checked MessagePack bytes, interning its keys, shapes and (an event's)
 * short values (intern.c) and announcing what is new. */
#include "codec.h"
#include "intern.h"

#include <stdlib.h>
#include <string.h>

void nx_tape_reset(nx_tape *tape) {
  tape->nops = tape->nnums = tape->nstr = tape->str16 = tape->nbins = tape->nsegs = 0;
  tape->non_ascii = 0;
  tape->values = 0;
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

/* Entries of the tables' map_shapes kept between events; a larger list is
 * freed after its event. */
#define KEEP_MAP_SHAPES 4096

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

/* Room for one payload is reserved before it is written (see nx_tape_append):
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

/* Strings after this point go in a new segment (its offsets restart at 0). */
static void new_segment(nx_tape *tp) {
  tp->segs[tp->nsegs++] = tp->nstr;
  tp->str16 = 0;
  op(tp, NX_T_SEG);
}

static size_t segment_bytes(const nx_tape *tp) {
  return tp->nstr - (tp->nsegs ? tp->segs[tp->nsegs - 1] : 0);
}

static int put_plain_str(nx_tape_tables *t, nx_tape *tp, const char *s, uint32_t n) {
  uint32_t off, len;
  /* A document kept from a large answer keeps only its segment's text. */
  if (t->writing == NX_TAPE_ANSWER && segment_bytes(tp) >= NX_TAPE_SEG) new_segment(tp);
  if (put_str(tp, s, n, &off, &len)) return -1;
  return ops3(tp, NX_T_STR, (int32_t)off, (int32_t)len);
}

static inline int put_num(nx_tape *tp, double d) {
  tp->nums[tp->nnums++] = d;
  return op(tp, NX_T_NUM);
}

/* The string at *pp, a key or a value (the check has read its header): its
 * bytes and length; *pp moves past it. */
static inline const char *read_str(const uint8_t **pp, uint32_t *n) {
  const uint8_t *p = *pp;
  uint8_t b = *p++;
  if (b <= 0xbf) {
    *n = b & 0x1f;
  } else {
    int nb = 1 << (b - 0xd9);
    *n = (uint32_t)nx__be(p, nb);
    p += nb;
  }
  *pp = p + *n;
  return (const char *)p;
}

/* Past a value that is not a map or an array (the check has read it). */
static inline const uint8_t *skip_scalar(const uint8_t *p) {
  uint8_t b = *p++;
  if (b <= 0x7f || b >= 0xe0) return p;
  if (b >= 0xa0 && b <= 0xbf) return p + (b & 0x1f);
  switch (b) {
    case 0xcc: case 0xd0: return p + 1;
    case 0xcd: case 0xd1: return p + 2;
    case 0xca: case 0xce: case 0xd2: return p + 4;
    case 0xcb: case 0xcf: case 0xd3: return p + 8;
    case 0xc4: case 0xd9: return p + 1 + p[0];
    case 0xc5: case 0xda: return p + 2 + nx__be(p, 2);
    case 0xc6: case 0xdb: return p + 4 + nx__be(p, 4);
    default: return p; /* nil, false, true: the check let nothing else through */
  }
}

/* A key's id, announcing it if new; UINT32_MAX when not interned. */
static int key_id(nx_tape_tables *t, nx_tape *tp, const char *s, uint32_t n, uint32_t *id) {
  if (n > NX_TAPE_MAX_KEY) {
    *id = UINT32_MAX;
    return 0;
  }
  int added;
  if (nx__intern_str(&t->keys, s, n, id, &added)) return -1;
  if (added) {
    uint32_t off, len;
    if (put_str(tp, s, n, &off, &len) || op(tp, NX_T_NEWKEY) || ops3(tp, (int32_t)*id, (int32_t)off, (int32_t)len)) return -1;
  }
  return 0;
}

/* The shape id of a map with these n <= NX_TAPE_MAX_SHAPE_KEYS keys, through
 * the key and shape tables, its keys and the shape announced if new;
 * UINT32_MAX when a key is not interned or the table is full. */
static int shape_of(nx_tape_tables *t, nx_tape *tp, const nx__key *keys, uint32_t n, uint32_t *sid) {
  uint32_t ids[NX_TAPE_MAX_SHAPE_KEYS];
  int shaped = 1;
  for (uint32_t i = 0; i < n; i++) {
    if (key_id(t, tp, keys[i].ptr, keys[i].len, &ids[i])) return -1;
    if (ids[i] == UINT32_MAX) shaped = 0;
  }
  if (!shaped) return 0;
  int added;
  if (nx__intern_shape(t, ids, n, keys, sid, &added)) return -1;
  if (added) {
    if (op(tp, NX_T_NEWSHAPE) || op(tp, (int32_t)*sid) || op(tp, (int32_t)n)) return -1;
    for (uint32_t k = 0; k < n; k++)
      if (op(tp, (int32_t)ids[k])) return -1;
  }
  return 0;
}

static inline int is_container(uint8_t b) {
  return (b >= 0x80 && b <= 0x9f) || (b >= 0xdc && b <= 0xdf);
}

/* The first pass over a payload: the shape of every map in the container at
 * *pp, in the order the maps begin, into t->map_shapes (UINT32_MAX: the map
 * goes on the tape with its keys); what is new is announced. The tape names
 * a map's shape before its values, and in the bytes its keys sit between them.
 * It recurses once a level, with a map's keys in its frame (about 1.4 KiB):
 * a payload passed the document rule, so at most NX_MAX_DOC_DEPTH + 3 levels. */
static int find_shapes(nx_tape_tables *t, nx_tape *tp, const uint8_t **pp) {
  const uint8_t *p = *pp;
  uint8_t b = *p++;
  uint32_t n;
  if (b <= 0x9f) {
    n = b & 0x0f;
  } else {
    int nb = (b & 1) ? 4 : 2;
    n = (uint32_t)nx__be(p, nb);
    p += nb;
  }
  *pp = p;
  if ((b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd) { /* an array */
    for (uint32_t i = 0; i < n; i++) {
      if (!is_container(**pp)) *pp = skip_scalar(*pp);
      else if (find_shapes(t, tp, pp)) return -1;
    }
    return 0;
  }
  if (grow((void **)&t->map_shapes, &t->cap_map_shapes, t->nmap_shapes + 1, sizeof(uint32_t))) return -1;
  size_t slot = t->nmap_shapes++; /* before the maps inside it */
  nx__key keys[NX_TAPE_MAX_SHAPE_KEYS];
  int shaped = n <= NX_TAPE_MAX_SHAPE_KEYS;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t len, id;
    const char *k = read_str(pp, &len);
    if (shaped) {
      keys[i].ptr = k;
      keys[i].len = len;
    } else if (key_id(t, tp, k, len, &id)) { /* announced here: the tape has no room between pairs */
      return -1;
    }
    if (!is_container(**pp)) *pp = skip_scalar(*pp);
    else if (find_shapes(t, tp, pp)) return -1;
  }
  /* Usually the same keys as the last map of this size: no hashing at all
   * (its keys were announced with the shape). */
  uint32_t sid = shaped ? nx__intern_hinted_shape(t, keys, n) : UINT32_MAX;
  if (shaped && sid == UINT32_MAX && shape_of(t, tp, keys, n, &sid)) return -1;
  t->map_shapes[slot] = sid;
  return 0;
}

static int put_value(nx_tape_tables *t, nx_tape *tp, const uint8_t **pp);
static int put_array(nx_tape_tables *t, nx_tape *tp, const uint8_t **pp, uint32_t n);

/* The second pass: values, each map under the shape the first pass found. */
static int put_map(nx_tape_tables *t, nx_tape *tp, const uint8_t **pp, uint32_t n) {
  uint32_t sid = t->map_shapes[t->next_map++];
  uint32_t len;
  if (sid != UINT32_MAX) {
    if (op(tp, NX_T_MAP) || op(tp, (int32_t)sid)) return -1;
    for (uint32_t i = 0; i < n; i++) {
      read_str(pp, &len); /* the key: the shape has it */
      if (put_value(t, tp, pp)) return -1;
    }
    return 0;
  }
  if (op(tp, NX_T_MAPK) || op(tp, (int32_t)n)) return -1;
  for (uint32_t i = 0; i < n; i++) {
    const char *k = read_str(pp, &len);
    uint32_t id;
    if (key_id(t, tp, k, len, &id)) return -1;
    if (id != UINT32_MAX) {
      if (op(tp, NX_T_KEY) || op(tp, (int32_t)id)) return -1;
    } else if (put_plain_str(t, tp, k, len)) {
      return -1;
    }
    if (put_value(t, tp, pp)) return -1;
  }
  return 0;
}

static int put_uint(nx_tape *tp, uint64_t u) {
  if (u <= UINT32_MAX) return put_num(tp, (double)u);
  return ops3(tp, NX_T_U64, (int32_t)(uint32_t)u, (int32_t)(uint32_t)(u >> 32));
}

static int put_int(nx_tape *tp, int64_t v) {
  if (v >= 0) return put_uint(tp, (uint64_t)v);
  if (v >= INT32_MIN) return put_num(tp, (double)v);
  return ops3(tp, NX_T_I64, (int32_t)(uint32_t)(uint64_t)v, (int32_t)(uint32_t)((uint64_t)v >> 32));
}

/* The value at *pp onto the tape; *pp moves past it. */
static int put_value(nx_tape_tables *t, nx_tape *tp, const uint8_t **pp) {
  const uint8_t *p = *pp;
  uint8_t b = *p;
  if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb)) {
    uint32_t n, id;
    int added;
    const char *s = read_str(pp, &n);
    /* An event's short string is interned: its text goes on the tape once. */
    if (n > NX_TAPE_MAX_VAL || t->writing != NX_TAPE_EVENT) return put_plain_str(t, tp, s, n);
    if (nx__intern_str(&t->vals, s, n, &id, &added)) return -1;
    if (id == UINT32_MAX) return put_plain_str(t, tp, s, n); /* the table is full */
    if (added) {
      uint32_t off, len;
      if (put_str(tp, s, n, &off, &len) || op(tp, NX_T_NEWVAL) || ops3(tp, (int32_t)id, (int32_t)off, (int32_t)len))
        return -1;
    }
    return op(tp, NX_T_VAL) || op(tp, (int32_t)id);
  }
  *pp = ++p;
  if (b <= 0x7f) return put_num(tp, b);
  if (b >= 0xe0) return put_num(tp, (int8_t)b);
  if (b <= 0x8f) return put_map(t, tp, pp, b & 0x0f);
  if (b <= 0x9f) return put_array(t, tp, pp, b & 0x0f);
  int nb;
  uint64_t u;
  switch (b) {
    case 0xc0: return op(tp, NX_T_NULL);
    case 0xc2: return op(tp, NX_T_FALSE);
    case 0xc3: return op(tp, NX_T_TRUE);
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
      nb = 1 << (b - 0xcc);
      *pp = p + nb;
      return put_uint(tp, nx__be(p, nb));
    case 0xd0: case 0xd1: case 0xd2: case 0xd3:
      nb = 1 << (b - 0xd0);
      *pp = p + nb;
      u = nx__be(p, nb);
      return put_int(tp, nb == 1 ? (int8_t)u : nb == 2 ? (int16_t)u : nb == 4 ? (int32_t)u : (int64_t)u);
    case 0xca: {
      uint32_t bits = (uint32_t)nx__be(p, 4);
      float f;
      memcpy(&f, &bits, 4);
      *pp = p + 4;
      return put_num(tp, f);
    }
    case 0xcb: {
      u = nx__be(p, 8);
      double d;
      memcpy(&d, &u, 8);
      *pp = p + 8;
      return put_num(tp, d);
    }
    case 0xc4: case 0xc5: case 0xc6: {
      nb = 1 << (b - 0xc4);
      uint32_t n = (uint32_t)nx__be(p, nb);
      if (n) memcpy(tp->bins + tp->nbins, p + nb, n);
      *pp = p + nb + n;
      if (ops3(tp, NX_T_BIN, (int32_t)tp->nbins, (int32_t)n)) return -1;
      tp->nbins += n;
      return 0;
    }
    case 0xdc: case 0xdd:
      nb = b == 0xdc ? 2 : 4;
      *pp = p + nb;
      return put_array(t, tp, pp, (uint32_t)nx__be(p, nb));
    case 0xde: case 0xdf:
      nb = b == 0xde ? 2 : 4;
      *pp = p + nb;
      return put_map(t, tp, pp, (uint32_t)nx__be(p, nb));
    default:
      return op(tp, NX_T_NULL); /* ext: refused by the core's check before this */
  }
}

static int put_array(nx_tape_tables *t, nx_tape *tp, const uint8_t **pp, uint32_t n) {
  if (op(tp, NX_T_ARR) || op(tp, (int32_t)n)) return -1;
  for (uint32_t i = 0; i < n; i++)
    if (put_value(t, tp, pp)) return -1;
  return 0;
}

int nx_tape_append(nx_tape_tables *t, nx_tape *tape, const uint8_t *payload, size_t payload_len, size_t elements,
                   nx_tape_payload what) {
  if (t->broken) return -1;
  /* Room for the payload, reserved before anything is written so that the
   * writes need no checks. Each element (a value or a key, as the check
   * counted them) becomes at most 3 ops, and announcements add at most 5 (a
   * new key: 4 ops and one in its shape; a new value: 4; a new map shape: 3
   * + one a key): 8 ops an element. A number is an element; strings and bins
   * never exceed the payload. An answer also begins a segment per
   * NX_TAPE_SEG bytes of its strings. Sized by elements, not bytes: an
   * answer of tens of MiB of text asks for little more than its text. */
  size_t segs = what == NX_TAPE_ANSWER ? 2 + payload_len / NX_TAPE_SEG : 1; /* one before it, and those inside */
  size_t ops_end = tape->nops + 8 * elements + segs, nums_end = tape->nnums + elements;
  size_t str_end = tape->nstr + payload_len + 16, bins_end = tape->nbins + payload_len + 16, segs_end = tape->nsegs + segs;
  if (grow((void **)&tape->ops, &tape->cap_ops, ops_end, sizeof(int32_t)) ||
      grow((void **)&tape->nums, &tape->cap_nums, nums_end, sizeof(double)) ||
      grow((void **)&tape->str, &tape->cap_str, str_end, 1) ||
      grow((void **)&tape->bins, &tape->cap_bins, bins_end, 1) ||
      grow((void **)&tape->segs, &tape->cap_segs, segs_end, sizeof(size_t)))
    return -1; /* nothing written: only this payload fails, the tables go on */
  /* A new segment once the current one holds NX_TAPE_SEG bytes, and for a
   * payload that may bring more than that alone (its strings are at most its
   * size): small events share segments of under 2 * NX_TAPE_SEG, a large
   * event has its own, a large answer begins its own and more inside
   * (put_plain_str). */
  size_t seg_len = segment_bytes(tape);
  if (seg_len >= NX_TAPE_SEG || (seg_len > 0 && payload_len > NX_TAPE_SEG)) new_segment(tape);
  /* Offsets and lengths are int32 on the tape: they count within a segment,
   * which holds one frame's strings at most past NX_TAPE_SEG, and frames are
   * bounded by maxFrameBytes (< 512 MiB). */
  const uint8_t *p = payload;
  t->writing = what;
  t->nmap_shapes = t->next_map = 0;
  int rc = find_shapes(t, tape, &p);
  p = payload;
  if (!rc) rc = put_value(t, tape, &p);
  if (t->cap_map_shapes > KEEP_MAP_SHAPES) { /* one large event does not pin its list */
    free(t->map_shapes);
    t->map_shapes = NULL;
    t->cap_map_shapes = 0;
  }
  if (rc) {
    t->broken = 1; /* announcements may be lost: never emit again */
    return -1;
  }
#ifdef NX_TAPE_CHECK_ROOM /* fuzz and test builds: a reservation too small is a bug, found at once */
  if (tape->nops > ops_end || tape->nnums > nums_end || tape->nstr > str_end || tape->nbins > bins_end || tape->nsegs > segs_end)
    abort();
#endif
  tape->values++;
  return 0;
}
