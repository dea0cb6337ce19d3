/* Decoding payloads nx_check_padded accepted into msgpack_object trees, as
 * msgpack-c's unpacker builds them, but iteratively: its stack is fixed at 32
 * levels, and the dev server asks for far more than the document rule's
 * levels. For the binding's decode(): what arrives on a connection is
 * written onto the tape from its checked bytes instead (tape.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

typedef struct {
  void *items;   /* msgpack_object[n] or msgpack_object_kv[n / 2] */
  uint32_t i, n; /* the element being read, of n (a map counts keys and values) */
  int map;
} decode_level;

static inline msgpack_object *element(const decode_level *lv) {
  if (!lv->map) return (msgpack_object *)lv->items + lv->i;
  msgpack_object_kv *kv = (msgpack_object_kv *)lv->items + (lv->i >> 1);
  return (lv->i & 1) ? &kv->val : &kv->key;
}

/* Builds the objects msgpack-c's unpacker would (same types, strings and
 * bins pointing into `p`), iteratively, so any depth the check allowed is
 * fine. The bytes are trusted: nx_check_padded has walked them. */
static int decode_checked(msgpack_zone *z, const uint8_t *p, msgpack_object *out) {
  decode_level inline_st[NX_STACK_INLINE];
  decode_level *st = inline_st;
  size_t cap = NX_STACK_INLINE, n = 0, pos = 0;
  msgpack_object *o = out;
  int rc = 0;
  for (;;) {
    uint8_t b = p[pos++];
    uint32_t count = 0;
    int container = 0; /* 1 array, 2 map */
    uint64_t u;
    if (b <= 0x7f) {
      o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
      o->via.u64 = b;
    } else if (b >= 0xe0) {
      o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
      o->via.i64 = (int8_t)b;
    } else if (b >= 0xa0 && b <= 0xbf) {
      o->type = MSGPACK_OBJECT_STR;
      o->via.str.size = b & 0x1f;
      o->via.str.ptr = (const char *)p + pos;
      pos += o->via.str.size;
    } else if (b <= 0x8f) {
      container = 2;
      count = b & 0x0f;
    } else if (b <= 0x9f) {
      container = 1;
      count = b & 0x0f;
    } else {
      int nb = 0;
      switch (b) {
        case 0xc0: o->type = MSGPACK_OBJECT_NIL; break;
        case 0xc2: case 0xc3:
          o->type = MSGPACK_OBJECT_BOOLEAN;
          o->via.boolean = b == 0xc3;
          break;
        case 0xcc: case 0xcd: case 0xce: case 0xcf:
          nb = 1 << (b - 0xcc);
          o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
          o->via.u64 = nx__be(p + pos, nb);
          pos += (size_t)nb;
          break;
        case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
          nb = 1 << (b - 0xd0);
          u = nx__be(p + pos, nb);
          pos += (size_t)nb;
          int64_t v = nb == 1 ? (int8_t)u : nb == 2 ? (int16_t)u : nb == 4 ? (int32_t)u : (int64_t)u;
          if (v < 0) {
            o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
            o->via.i64 = v;
          } else {
            o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
            o->via.u64 = (uint64_t)v;
          }
          break;
        }
        case 0xca: {
          uint32_t bits = (uint32_t)nx__be(p + pos, 4);
          float f;
          memcpy(&f, &bits, 4);
          pos += 4;
          o->type = MSGPACK_OBJECT_FLOAT32;
          o->via.f64 = f;
          break;
        }
        case 0xcb: {
          u = nx__be(p + pos, 8);
          pos += 8;
          o->type = MSGPACK_OBJECT_FLOAT64;
          memcpy(&o->via.f64, &u, 8);
          break;
        }
        case 0xd9: case 0xda: case 0xdb:
          nb = 1 << (b - 0xd9);
          o->type = MSGPACK_OBJECT_STR;
          o->via.str.size = (uint32_t)nx__be(p + pos, nb);
          o->via.str.ptr = (const char *)p + pos + nb;
          pos += (size_t)nb + o->via.str.size;
          break;
        case 0xc4: case 0xc5: case 0xc6:
          nb = 1 << (b - 0xc4);
          o->type = MSGPACK_OBJECT_BIN;
          o->via.bin.size = (uint32_t)nx__be(p + pos, nb);
          o->via.bin.ptr = (const char *)p + pos + nb;
          pos += (size_t)nb + o->via.bin.size;
          break;
        case 0xdc: case 0xdd:
          nb = b == 0xdc ? 2 : 4;
          container = 1;
          count = (uint32_t)nx__be(p + pos, nb);
          pos += (size_t)nb;
          break;
        default: /* 0xde, 0xdf: the check let nothing else through */
          nb = b == 0xde ? 2 : 4;
          container = 2;
          count = (uint32_t)nx__be(p + pos, nb);
          pos += (size_t)nb;
          break;
      }
    }
    if (container) {
      /* Counts are bounded by the payload (the check): no overflow here. */
      size_t size = (size_t)count * (container == 2 ? sizeof(msgpack_object_kv) : sizeof(msgpack_object));
      void *items = count ? msgpack_zone_malloc(z, size) : NULL;
      if (count && !items) { rc = NX_DECODE_NOMEM; break; }
      if (container == 2) {
        o->type = MSGPACK_OBJECT_MAP;
        o->via.map.size = count;
        o->via.map.ptr = items;
      } else {
        o->type = MSGPACK_OBJECT_ARRAY;
        o->via.array.size = count;
        o->via.array.ptr = items;
      }
      if (count) {
        if (n == cap) {
          decode_level *grown = nx__grow_stack(st, inline_st, &cap, sizeof(*st));
          if (!grown) { rc = NX_DECODE_NOMEM; break; }
          st = grown;
        }
        st[n].items = items;
        st[n].i = 0;
        st[n].n = container == 2 ? count * 2 : count;
        st[n].map = container == 2;
        o = element(&st[n]);
        n++;
        continue;
      }
    }
    /* The next element: of this container, or of the first one above it
     * that is not full yet. */
    while (n > 0 && ++st[n - 1].i == st[n - 1].n) n--;
    if (n == 0) break;
    o = element(&st[n - 1]);
  }
  if (st != inline_st) free(st);
  return rc;
}

int nx_decode_levels(msgpack_zone *zone, const uint8_t *payload, size_t len, int flags, uint32_t max_levels,
                     msgpack_object *out, char *err, size_t errlen) {
  /* Strings and bins point into the input: keep it in the zone, with
   * NX_DECODE_SLACK zero bytes after it (see codec.h). */
  char *copy = msgpack_zone_malloc(zone, len + NX_DECODE_SLACK);
  if (!copy) {
    snprintf(err, errlen, "out of memory decoding %zu bytes", len);
    return NX_DECODE_NOMEM;
  }
  if (len) memcpy(copy, payload, len);
  memset(copy + len, 0, NX_DECODE_SLACK);
  /* On failure the zone keeps the copy: freed with it. */
  int rc = nx_check_padded((const uint8_t *)copy, len, flags, max_levels, NULL, err, errlen);
  if (rc) return rc;
  if (decode_checked(zone, (const uint8_t *)copy, out)) {
    snprintf(err, errlen, "out of memory decoding %zu bytes", len);
    return NX_DECODE_NOMEM;
  }
  return 0;
}

int nx_decode(msgpack_zone *zone, const uint8_t *payload, size_t len, int flags,
              msgpack_object *out, char *err, size_t errlen) {
  return nx_decode_levels(zone, payload, len, flags, 0, out, err, errlen);
}
