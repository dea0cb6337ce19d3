#include "codec.h"

#include "frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(char *err, size_t errlen, const char *msg, size_t at) {
  if (err && errlen) snprintf(err, errlen, "%s at byte %zu", msg, at);
  return -1;
}

static uint32_t rd_be(const uint8_t *p, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; i++) v = (v << 8) | p[i];
  return v;
}

/* Strict UTF-8 for a string holding a byte >= 0x80: no overlongs, no
 * surrogates, nothing above U+10FFFF. */
static int utf8_strict(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    while (n - i >= 8) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    uint8_t c = s[i];
    if (c < 0x80) { i++; continue; }
    size_t k;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (n - i <= k) return 0;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + j] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    i += k + 1;
  }
  return 1;
}

/* `p` has NX_DECODE_SLACK readable bytes after `len`: a string of up to 16
 * bytes is tested for ASCII with two loads. */
static inline int utf8_ok_padded(const uint8_t *s, size_t n) {
  if (n <= 16) {
    uint64_t a, b;
    memcpy(&a, s, 8);
    memcpy(&b, s + 8, 8);
    uint64_t ma = n >= 8 ? ~0ull : ((1ull << (8 * n)) - 1);
    uint64_t mb = n <= 8 ? 0 : (n >= 16 ? ~0ull : ((1ull << (8 * (n - 8))) - 1));
    if (!(((a & ma) | (b & mb)) & 0x8080808080808080ull)) return 1;
  }
  return utf8_strict(s, n);
}

uint32_t nx_doc_envelope(const char *k, size_t n) {
  /* Only the keys whose documents sit deeper than one level are named: every
   * other key (document, fullDocument, data, updates, ...) gets 1. */
  if (n == 9 && memcmp(k, "documents", 9) == 0) return 2;
  if (n == 17 && memcmp(k, "updateDescription", 17) == 0) return 2;
  if (n == 7 && memcmp(k, "filters", 7) == 0) return 2;
  if (n == 7 && memcmp(k, "results", 7) == 0) return 3;
  return 1;
}

/* The walks keep one entry a level: on the C stack up to what the document
 * rule allows, on the heap beyond (a plain bound, as the dev server asks for
 * to store what the reference server stores). They grow with the levels
 * met, never with the levels a payload claims. */
#define NX_STACK_INLINE (NX_MAX_DOC_DEPTH + 8)

static int grow_stack(void **st, void *inline_st, size_t *cap, size_t elem) {
  size_t ncap = *cap * 2;
  void *p = malloc(ncap * elem);
  if (!p) return -1;
  memcpy(p, *st, *cap * elem);
  if (*st != inline_st) free(*st);
  *st = p;
  *cap = ncap;
  return 0;
}

typedef struct {
  uint32_t left; /* elements still to read (a map counts keys and values) */
  uint8_t map;
} check_level;

/* The structural walk; `p` is padded (see utf8_ok_padded). Returns 0,
 * NX_DECODE_BAD or NX_DECODE_NOMEM. */
static int check_padded(const uint8_t *p, size_t len, int flags, uint32_t max_levels, char *err, size_t errlen) {
  check_level inline_st[NX_STACK_INLINE];
  check_level *st = inline_st;
  size_t cap = NX_STACK_INLINE;
  size_t n = 1;          /* entries; the container read next is at level n */
  size_t pos = 0;
  int doc_rule = max_levels == 0;
  /* The levels allowed under the root-level value being read: its key says
   * (nx_doc_envelope), under the document rule. */
  size_t limit = doc_rule ? NX_MAX_DOC_DEPTH + 1 : max_levels;
  int rc = 0;
  st[0].left = 1; /* the root value */
  st[0].map = 0;
  if ((flags & NX_CHECK_MAP) && len > 0) {
    uint8_t b = p[0];
    if (!((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf))
      return bad(err, errlen, "payload is not a map", 0);
  }
  while (n > 0) {
    check_level *lv = &st[n - 1];
    if (lv->left == 0) { n--; continue; }
    uint32_t l = --lv->left;
    /* A map of n pairs counts 2n: a key is read while the count left is odd. */
    int want_key = lv->map & (int)(l & 1);
    int root_key = want_key && n == 2 && doc_rule;
    if (pos >= len) { rc = bad(err, errlen, "truncated MessagePack", pos); break; }
    size_t at = pos;
    uint8_t b = p[pos++];
    size_t avail = len - pos;
    size_t skip;
    if (b >= 0xa0 && b <= 0xbf) { /* fixstr: keys and most values */
      skip = b & 0x1f;
      if (skip > avail) { rc = bad(err, errlen, "truncated MessagePack", at); break; }
      if (skip && !utf8_ok_padded(p + pos, skip)) { rc = bad(err, errlen, "invalid UTF-8 in a string", at); break; }
      if (root_key) limit = NX_MAX_DOC_DEPTH + nx_doc_envelope((const char *)p + pos, skip);
      pos += skip;
      continue;
    }
    if (want_key && b != 0xd9 && b != 0xda && b != 0xdb) { rc = bad(err, errlen, "map key is not a string", at); break; }
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) continue; /* fixint, nil, bool */
    uint32_t count;
    int is_map;
    if (b <= 0x8f) { count = b & 0x0f; is_map = 1; }
    else if (b <= 0x9f) { count = b & 0x0f; is_map = 0; }
    else {
      int lenbytes = 0, is_str = 0;
      is_map = -1;
      skip = 0;
      switch (b) {
        case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xca: case 0xce: case 0xd2: skip = 4; break;
        case 0xd9: lenbytes = 1; is_str = 1; break;
        case 0xda: lenbytes = 2; is_str = 1; break;
        case 0xdb: lenbytes = 4; is_str = 1; break;
        case 0xc4: lenbytes = 1; break;
        case 0xc5: lenbytes = 2; break;
        case 0xc6: lenbytes = 4; break;
        case 0xdc: lenbytes = 2; is_map = 0; break;
        case 0xdd: lenbytes = 4; is_map = 0; break;
        case 0xde: lenbytes = 2; is_map = 1; break;
        case 0xdf: lenbytes = 4; is_map = 1; break;
        case 0xc1: rc = bad(err, errlen, "reserved MessagePack byte 0xc1", at); break;
        default: rc = bad(err, errlen, "MessagePack ext types are not accepted", at); break;
      }
      if (rc) break;
      if (lenbytes) {
        if (avail < (size_t)lenbytes) { rc = bad(err, errlen, "truncated MessagePack", at); break; }
        uint32_t v = rd_be(p + pos, lenbytes);
        pos += (size_t)lenbytes;
        avail -= (size_t)lenbytes;
        if (is_map >= 0) count = v;
        else skip = v;
      }
      if (is_map < 0) {
        if (skip > avail) { rc = bad(err, errlen, "truncated MessagePack", at); break; }
        if (is_str && skip && !utf8_ok_padded(p + pos, skip)) { rc = bad(err, errlen, "invalid UTF-8 in a string", at); break; }
        if (root_key) limit = NX_MAX_DOC_DEPTH + nx_doc_envelope((const char *)p + pos, skip);
        pos += skip;
        continue;
      }
    }
    /* Every element takes at least one byte: a count the rest of the
     * payload cannot hold is a lie, refused before anything is allocated. */
    uint64_t elems = is_map ? (uint64_t)count * 2 : count;
    if (elems > avail) { rc = bad(err, errlen, "container count exceeds the payload", at); break; }
    if (n > limit) {
      if (err && errlen) {
        if (doc_rule) snprintf(err, errlen, "a document nested more than %d levels deep at byte %zu", NX_MAX_DOC_DEPTH, at);
        else snprintf(err, errlen, "MessagePack nested more than %zu levels deep at byte %zu", limit, at);
      }
      rc = NX_DECODE_BAD;
      break;
    }
    if (elems == 0) continue;
    if (n == cap && grow_stack((void **)&st, inline_st, &cap, sizeof(*st))) {
      rc = bad(err, errlen, "out of memory checking a payload", at);
      rc = NX_DECODE_NOMEM;
      break;
    }
    st[n].left = (uint32_t)elems;
    st[n].map = (uint8_t)is_map;
    n++;
  }
  if (st != inline_st) free(st);
  if (rc) return rc;
  if (pos != len) return bad(err, errlen, "trailing bytes after the MessagePack value", pos);
  return 0;
}

int nx_check_levels(const uint8_t *p, size_t len, int flags, uint32_t max_levels, char *err, size_t errlen) {
  /* The walk reads a few bytes past short strings: give it a padded copy. */
  uint8_t *copy = malloc(len + NX_DECODE_SLACK);
  if (!copy) return bad(err, errlen, "out of memory checking a payload", 0);
  if (len) memcpy(copy, p, len);
  memset(copy + len, 0, NX_DECODE_SLACK);
  int rc = check_padded(copy, len, flags, max_levels, err, errlen);
  free(copy);
  return rc ? -1 : 0;
}

int nx_check(const uint8_t *p, size_t len, int flags, char *err, size_t errlen) {
  return nx_check_levels(p, len, flags, 0, err, errlen);
}

/* ---- decoding what check_padded accepted ---- */

static inline uint64_t be(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = (v << 8) | p[i];
  return v;
}

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
 * fine. The bytes are trusted: check_padded has walked them. */
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
          o->via.u64 = be(p + pos, nb);
          pos += (size_t)nb;
          break;
        case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
          nb = 1 << (b - 0xd0);
          u = be(p + pos, nb);
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
          uint32_t bits = (uint32_t)be(p + pos, 4);
          float f;
          memcpy(&f, &bits, 4);
          pos += 4;
          o->type = MSGPACK_OBJECT_FLOAT32;
          o->via.f64 = f;
          break;
        }
        case 0xcb: {
          u = be(p + pos, 8);
          pos += 8;
          o->type = MSGPACK_OBJECT_FLOAT64;
          memcpy(&o->via.f64, &u, 8);
          break;
        }
        case 0xd9: case 0xda: case 0xdb:
          nb = 1 << (b - 0xd9);
          o->type = MSGPACK_OBJECT_STR;
          o->via.str.size = (uint32_t)be(p + pos, nb);
          o->via.str.ptr = (const char *)p + pos + nb;
          pos += (size_t)nb + o->via.str.size;
          break;
        case 0xc4: case 0xc5: case 0xc6:
          nb = 1 << (b - 0xc4);
          o->type = MSGPACK_OBJECT_BIN;
          o->via.bin.size = (uint32_t)be(p + pos, nb);
          o->via.bin.ptr = (const char *)p + pos + nb;
          pos += (size_t)nb + o->via.bin.size;
          break;
        case 0xdc: case 0xdd:
          nb = b == 0xdc ? 2 : 4;
          container = 1;
          count = (uint32_t)be(p + pos, nb);
          pos += (size_t)nb;
          break;
        default: /* 0xde, 0xdf: the check let nothing else through */
          nb = b == 0xde ? 2 : 4;
          container = 2;
          count = (uint32_t)be(p + pos, nb);
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
        if (n == cap && grow_stack((void **)&st, inline_st, &cap, sizeof(*st))) { rc = NX_DECODE_NOMEM; break; }
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
  int rc = check_padded((const uint8_t *)copy, len, flags, max_levels, err, errlen);
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

int nx_frame_begin(msgpack_sbuffer *sb) {
  static const char zero[NX_HEADER_SIZE] = {0};
  msgpack_sbuffer_init(sb);
  return msgpack_sbuffer_write(sb, zero, NX_HEADER_SIZE);
}

int nx_frame_finish(msgpack_sbuffer *sb, uint8_t type) {
  if (!sb->data || sb->size < NX_HEADER_SIZE) return -1;
  size_t len = sb->size - NX_HEADER_SIZE;
  if (len > UINT32_MAX) return -1;
  nx_frame_header((uint8_t *)sb->data, type, (uint32_t)len);
  return 0;
}

static int pack_str(msgpack_packer *pk, const char *s, size_t n) {
  if (msgpack_pack_str(pk, n)) return -1;
  return msgpack_pack_str_body(pk, s, n);
}

int nx_encode_connect(msgpack_sbuffer *sb, const char *user, size_t ulen,
                      const char *pass, size_t plen) {
  msgpack_packer pk;
  if (nx_frame_begin(sb)) return -1;
  msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
  if (msgpack_pack_map(&pk, 2) || pack_str(&pk, "username", 8) ||
      pack_str(&pk, user, ulen) || pack_str(&pk, "password", 8) ||
      pack_str(&pk, pass, plen))
    return -1;
  return nx_frame_finish(sb, NX_MSG_CONNECT);
}

int nx_encode_empty(msgpack_sbuffer *sb, uint8_t type) {
  msgpack_packer pk;
  if (nx_frame_begin(sb)) return -1;
  msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
  if (msgpack_pack_map(&pk, 0)) return -1;
  return nx_frame_finish(sb, type);
}
