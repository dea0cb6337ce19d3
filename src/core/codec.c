#include "codec.h"

#include "frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(char *err, size_t errlen, const char *msg, size_t at) {
  if (err && errlen) snprintf(err, errlen, "%s at byte %zu", msg, at);
  return -1;
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

/* `s` has NX_DECODE_SLACK readable bytes after `n`: ASCII is tested eight
 * bytes a load, the last load masked to the string (up to 16 bytes, two
 * loads and no loop); a string with a byte >= 0x80 takes the strict walk. */
static inline int utf8_ok_padded(const uint8_t *s, size_t n) {
  uint64_t a, b;
  memcpy(&a, s, 8);
  memcpy(&b, s + 8, 8);
  if (n <= 16) {
    a &= n >= 8 ? ~0ull : ((1ull << (8 * n)) - 1);
    b &= n <= 8 ? 0 : n >= 16 ? ~0ull : ((1ull << (8 * (n - 8))) - 1);
  } else {
    size_t i = 16;
    for (; i + 8 <= n && !((a | b) & 0x8080808080808080ull); i += 8) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      a |= w;
    }
    if (i < n && n - i < 8) { /* the last bytes, unless a word before them was not ASCII */
      uint64_t w;
      memcpy(&w, s + i, 8);
      b |= w & ((1ull << (8 * (n - i))) - 1);
    }
  }
  return !((a | b) & 0x8080808080808080ull) || utf8_strict(s, n);
}

uint32_t nx_doc_envelope(const char *k, size_t n) {
#define NX_ENVELOPE_OF(key, levels) \
  if (n == sizeof(#key) - 1 && memcmp(k, #key, n) == 0) return levels;
  NX_DOC_ENVELOPES(NX_ENVELOPE_OF)
#undef NX_ENVELOPE_OF
  return 1;
}

void *nx__grow_stack(void *st, const void *inline_st, size_t *cap, size_t elem) {
  size_t ncap = *cap * 2;
  void *p = malloc(ncap * elem);
  if (!p) return NULL;
  memcpy(p, st, *cap * elem);
  if (st != inline_st) free(st);
  *cap = ncap;
  return p;
}

typedef struct {
  uint32_t left; /* elements still to read (a map counts keys and values) */
  uint8_t map;
} check_level;

int nx_check_padded(const uint8_t *p, size_t len, int flags, uint32_t max_levels, size_t *elements, char *err, size_t errlen) {
  check_level inline_st[NX_STACK_INLINE];
  check_level *st = inline_st;
  size_t cap = NX_STACK_INLINE;
  size_t n = 1;          /* entries; the container read next is at level n */
  size_t pos = 0;
  size_t count_all = 1; /* the root, and each container's elements as it opens */
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
        uint32_t v = (uint32_t)nx__be(p + pos, lenbytes);
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
    count_all += (size_t)elems;
    if (elems == 0) continue;
    if (n == cap) {
      check_level *grown = nx__grow_stack(st, inline_st, &cap, sizeof(*st));
      if (!grown) {
        bad(err, errlen, "out of memory checking a payload", at);
        rc = NX_DECODE_NOMEM;
        break;
      }
      st = grown;
    }
    st[n].left = (uint32_t)elems;
    st[n].map = (uint8_t)is_map;
    n++;
  }
  if (st != inline_st) free(st);
  if (rc) return rc;
  if (pos != len) return bad(err, errlen, "trailing bytes after the MessagePack value", pos);
  if (elements) *elements = count_all;
  return 0;
}

int nx_check_levels(const uint8_t *p, size_t len, int flags, uint32_t max_levels, char *err, size_t errlen) {
  /* The walk reads a few bytes past short strings: give it a padded copy. */
  uint8_t *copy = malloc(len + NX_DECODE_SLACK);
  if (!copy) return bad(err, errlen, "out of memory checking a payload", 0);
  if (len) memcpy(copy, p, len);
  memset(copy + len, 0, NX_DECODE_SLACK);
  int rc = nx_check_padded(copy, len, flags, max_levels, NULL, err, errlen);
  free(copy);
  return rc ? -1 : 0;
}

int nx_check(const uint8_t *p, size_t len, int flags, char *err, size_t errlen) {
  return nx_check_levels(p, len, flags, 0, err, errlen);
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
