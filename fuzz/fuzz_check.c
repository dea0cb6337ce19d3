/* libFuzzer target: nx_check and nx_decode on arbitrary payloads, against
 * msgpack-c itself.
 *
 *  - whatever nx_check accepts within msgpack-c's 32-level stack, msgpack-c
 *    decodes successfully and consumes every byte; with NX_CHECK_MAP the root
 *    is a map; the decoded object obeys the policy (no ext, string keys,
 *    UTF-8, documents at most NX_MAX_DOC_DEPTH levels inside their envelope);
 *  - nx_decode agrees with nx_check, builds the very objects msgpack-c builds
 *    (msgpack_object_equal) where msgpack-c can decode, and at any depth
 *    builds an object that obeys the policy;
 *  - a plain bound (nx_check_levels) refuses exactly what nests deeper;
 *  - the other way round: when msgpack-c decodes all the bytes into an object
 *    that obeys the policy, nx_check accepts it (no false refusals). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

/* Independent strict UTF-8 validation (RFC 3629). */
static int utf8_valid(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    if (c <= 0x7F) { i++; continue; }
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c == 0xE0) { need = 2; lo = 0xA0; }
    else if (c >= 0xE1 && c <= 0xEC) need = 2;
    else if (c == 0xED) { need = 2; hi = 0x9F; }
    else if (c >= 0xEE && c <= 0xEF) need = 2;
    else if (c == 0xF0) { need = 3; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) need = 3;
    else if (c == 0xF4) { need = 3; hi = 0x8F; }
    else return 0;
    if (n - i < need + 1) return 0;
    if (s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (size_t j = 2; j <= need; j++)
      if ((s[i + j] & 0xC0) != 0x80) return 0;
    i += need + 1;
  }
  return 1;
}

/* Levels the server's payloads put above their documents, per root key:
 * written out again here, not taken from the code under test. */
static int envelope(const msgpack_object_str *k) {
  static const struct { const char *key; int levels; } deeper[] = {
    {"documents", 2}, {"updateDescription", 2}, {"filters", 2}, {"results", 3},
  };
  for (size_t i = 0; i < sizeof(deeper) / sizeof(deeper[0]); i++)
    if (k->size == strlen(deeper[i].key) && memcmp(k->ptr, deeper[i].key, k->size) == 0) return deeper[i].levels;
  return 1;
}

/* Levels of containers in o (0 for a scalar). */
static int levels(const msgpack_object *o) {
  int most = 0;
  if (o->type == MSGPACK_OBJECT_ARRAY) {
    for (uint32_t i = 0; i < o->via.array.size; i++) {
      int l = levels(&o->via.array.ptr[i]);
      if (l > most) most = l;
    }
    return most + 1;
  }
  if (o->type == MSGPACK_OBJECT_MAP) {
    for (uint32_t i = 0; i < o->via.map.size; i++) {
      int l = levels(&o->via.map.ptr[i].val);
      if (l > most) most = l;
    }
    return most + 1;
  }
  return 0;
}

/* 1 when the object obeys the policy but for depth. */
static int values_ok(const msgpack_object *o) {
  switch (o->type) {
    case MSGPACK_OBJECT_EXT: return 0;
    case MSGPACK_OBJECT_STR: return utf8_valid((const uint8_t *)o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_ARRAY:
      for (uint32_t i = 0; i < o->via.array.size; i++)
        if (!values_ok(&o->via.array.ptr[i])) return 0;
      return 1;
    case MSGPACK_OBJECT_MAP:
      for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR) return 0;
        if (!values_ok(&kv->key) || !values_ok(&kv->val)) return 0;
      }
      return 1;
    default: return 1;
  }
}

/* The document rule: a root-map value nests at most NX_MAX_DOC_DEPTH +
 * envelope - 1 levels (the root is level 1); any other root value, and the
 * values of any other root, at most NX_MAX_DOC_DEPTH. */
static int depth_ok(const msgpack_object *o) {
  if (o->type != MSGPACK_OBJECT_MAP) return levels(o) <= NX_MAX_DOC_DEPTH + 1;
  for (uint32_t i = 0; i < o->via.map.size; i++) {
    const msgpack_object_kv *kv = &o->via.map.ptr[i];
    if (levels(&kv->val) > NX_MAX_DOC_DEPTH + envelope(&kv->key.via.str) - 1) return 0;
  }
  return 1;
}

static int policy_ok(const msgpack_object *o) { return values_ok(o) && depth_ok(o); }

/* msgpack_object_equal, but floats compared bit for bit (NaN is itself). */
static int same(const msgpack_object *a, const msgpack_object *b) {
  if (a->type != b->type) return 0;
  switch (a->type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return memcmp(&a->via.f64, &b->via.f64, sizeof(double)) == 0;
    case MSGPACK_OBJECT_ARRAY:
      if (a->via.array.size != b->via.array.size) return 0;
      for (uint32_t i = 0; i < a->via.array.size; i++)
        if (!same(&a->via.array.ptr[i], &b->via.array.ptr[i])) return 0;
      return 1;
    case MSGPACK_OBJECT_MAP:
      if (a->via.map.size != b->via.map.size) return 0;
      for (uint32_t i = 0; i < a->via.map.size; i++)
        if (!same(&a->via.map.ptr[i].key, &b->via.map.ptr[i].key) || !same(&a->via.map.ptr[i].val, &b->via.map.ptr[i].val)) return 0;
      return 1;
    default: return msgpack_object_equal(*a, *b);
  }
}

/* msgpack-c allocates what a container's count claims before reading the
 * elements, so raw msgpack-c is only run where that is bounded: a linear scan
 * of the headers (their order does not depend on nesting) finds every count
 * and returns 0 when one claims more elements than there are bytes. */
static int counts_bounded(const uint8_t *p, size_t n) {
  size_t pos = 0;
  while (pos < n) {
    uint8_t b = p[pos++];
    uint64_t count = 0, skip = 0;
    int lenbytes = 0, container = 0, map = 0;
    if (b <= 0x7f || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3)) continue;
    if (b >= 0xa0 && b <= 0xbf) { skip = b & 0x1f; }
    else if (b >= 0x90 && b <= 0x9f) { container = 1; count = b & 0x0f; }
    else if (b >= 0x80 && b <= 0x8f) { container = 1; map = 1; count = b & 0x0f; }
    else switch (b) {
      case 0xcc: case 0xd0: skip = 1; break;
      case 0xcd: case 0xd1: skip = 2; break;
      case 0xca: case 0xce: case 0xd2: skip = 4; break;
      case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
      case 0xd4: skip = 2; break;
      case 0xd5: skip = 3; break;
      case 0xd6: skip = 5; break;
      case 0xd7: skip = 9; break;
      case 0xd8: skip = 17; break;
      case 0xc4: case 0xd9: lenbytes = 1; break;
      case 0xc5: case 0xda: lenbytes = 2; break;
      case 0xc6: case 0xdb: lenbytes = 4; break;
      case 0xc7: lenbytes = 1; skip = 1; break; /* ext: + type byte */
      case 0xc8: lenbytes = 2; skip = 1; break;
      case 0xc9: lenbytes = 4; skip = 1; break;
      case 0xdc: container = 1; lenbytes = 2; break;
      case 0xdd: container = 1; lenbytes = 4; break;
      case 0xde: container = 1; map = 1; lenbytes = 2; break;
      case 0xdf: container = 1; map = 1; lenbytes = 4; break;
      default: return 1;
    }
    if (lenbytes) {
      if (n - pos < (size_t)lenbytes) return 1;
      uint64_t v = 0;
      for (int i = 0; i < lenbytes; i++) v = (v << 8) | p[pos + (size_t)i];
      pos += (size_t)lenbytes;
      if (container) count = v; else skip += v;
    }
    if (container && (map ? count * 2 : count) > n) return 0;
    if (skip > n - pos) return 1; /* truncated: msgpack-c stops here */
    pos += (size_t)skip;
  }
  return 1;
}

static void one(const uint8_t *data, size_t size, int flags) {
  char err[160];
  err[0] = 0;
  int checked = nx_check(data, size, flags, err, sizeof(err));
  if (checked != 0 && err[0] == 0) {
    fprintf(stderr, "nx_check refused without a reason\n");
    abort();
  }

  if (!counts_bounded(data, size)) {
    if (checked == 0) {
      fprintf(stderr, "nx_check accepted a container count beyond the payload\n");
      abort();
    }
    return;
  }
  /* Within msgpack-c's 32-level stack, msgpack-c is the reference. */
  int fits32 = nx_check_levels(data, size, flags, 32, NULL, 0) == 0;
  /* msgpack-c on an exact-size copy, so any over-read is caught. */
  char *copy = malloc(size ? size : 1);
  if (size) memcpy(copy, data, size);
  msgpack_zone z;
  msgpack_zone_init(&z, 2048);
  msgpack_object o;
  size_t off = 0;
  msgpack_unpack_return rc = size ? msgpack_unpack(copy, size, &off, &z, &o) : MSGPACK_UNPACK_CONTINUE;
  int whole = rc == MSGPACK_UNPACK_SUCCESS && off == size;
  if (checked == 0 && fits32) {
    if (!whole) {
      fprintf(stderr, "nx_check accepted what msgpack-c refuses (rc %d, %zu of %zu bytes)\n", (int)rc, off, size);
      abort();
    }
    if ((flags & NX_CHECK_MAP) && o.type != MSGPACK_OBJECT_MAP) {
      fprintf(stderr, "NX_CHECK_MAP accepted a root of type %d\n", (int)o.type);
      abort();
    }
    if (!policy_ok(&o)) {
      fprintf(stderr, "nx_check accepted an object outside the policy\n");
      abort();
    }
  } else if (checked != 0 && whole && policy_ok(&o) && (!(flags & NX_CHECK_MAP) || o.type == MSGPACK_OBJECT_MAP)) {
    fprintf(stderr, "nx_check refused a valid payload: %s\n", err);
    abort();
  }
  if (whole && !fits32 && values_ok(&o) && (!(flags & NX_CHECK_MAP) || o.type == MSGPACK_OBJECT_MAP)) {
    fprintf(stderr, "a plain bound of 32 levels refused what msgpack-c decodes\n");
    abort();
  }

  /* nx_decode must agree with nx_check, and with msgpack-c's objects. */
  msgpack_zone mine_z;
  msgpack_zone_init(&mine_z, 2048);
  msgpack_object mine;
  int decoded = nx_decode(&mine_z, data, size, flags, &mine, err, sizeof(err));
  if ((decoded == 0) != (checked == 0)) {
    fprintf(stderr, "nx_decode (%d) disagrees with nx_check (%d): %s\n", decoded, checked, err);
    abort();
  }
  if (decoded == 0 && whole && !same(&mine, &o)) {
    fprintf(stderr, "nx_decode built other objects than msgpack-c\n");
    abort();
  }
  if (decoded == 0 && (!policy_ok(&mine) || ((flags & NX_CHECK_MAP) && mine.type != MSGPACK_OBJECT_MAP))) {
    fprintf(stderr, "nx_decode built an object outside the policy\n");
    abort();
  }
  /* A plain bound: exactly the levels it says. */
  int l = decoded == 0 ? levels(&mine) : 0;
  if (l >= 1) { /* a bound of 0 would mean the document rule */
    if (nx_check_levels(data, size, flags, (uint32_t)l, NULL, 0) != 0 ||
        (l > 1 && nx_check_levels(data, size, flags, (uint32_t)l - 1, NULL, 0) == 0)) {
      fprintf(stderr, "nx_check_levels disagrees with the %d levels decoded\n", l);
      abort();
    }
  }
  msgpack_zone_destroy(&mine_z);
  msgpack_zone_destroy(&z);
  free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  one(data, size, 0);
  one(data, size, NX_CHECK_MAP);
  return 0;
}
