/* libFuzzer target: nx_check and nx_decode on arbitrary payloads, against
 * msgpack-c itself.
 *
 *  - whatever nx_check accepts, msgpack-c decodes successfully and consumes
 *    every byte; with NX_CHECK_MAP the root is a map; the decoded object
 *    obeys the policy (depth <= NX_MAX_DEPTH, no ext, string keys, UTF-8);
 *  - nx_decode agrees with nx_check;
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

/* 1 when the object obeys the policy. `depth` counts containers. */
static int policy_ok(const msgpack_object *o, int depth) {
  switch (o->type) {
    case MSGPACK_OBJECT_EXT: return 0;
    case MSGPACK_OBJECT_STR: return utf8_valid((const uint8_t *)o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_ARRAY:
      if (depth + 1 > NX_MAX_DEPTH) return 0;
      for (uint32_t i = 0; i < o->via.array.size; i++)
        if (!policy_ok(&o->via.array.ptr[i], depth + 1)) return 0;
      return 1;
    case MSGPACK_OBJECT_MAP:
      if (depth + 1 > NX_MAX_DEPTH) return 0;
      for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR) return 0;
        if (!policy_ok(&kv->key, depth + 1) || !policy_ok(&kv->val, depth + 1)) return 0;
      }
      return 1;
    default: return 1;
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
  /* msgpack-c on an exact-size copy, so any over-read is caught. */
  char *copy = malloc(size ? size : 1);
  if (size) memcpy(copy, data, size);
  msgpack_zone z;
  msgpack_zone_init(&z, 2048);
  msgpack_object o;
  size_t off = 0;
  msgpack_unpack_return rc = size ? msgpack_unpack(copy, size, &off, &z, &o) : MSGPACK_UNPACK_CONTINUE;
  int whole = rc == MSGPACK_UNPACK_SUCCESS && off == size;
  if (checked == 0) {
    if (!whole) {
      fprintf(stderr, "nx_check accepted what msgpack-c refuses (rc %d, %zu of %zu bytes)\n", (int)rc, off, size);
      abort();
    }
    if ((flags & NX_CHECK_MAP) && o.type != MSGPACK_OBJECT_MAP) {
      fprintf(stderr, "NX_CHECK_MAP accepted a root of type %d\n", (int)o.type);
      abort();
    }
    if (!policy_ok(&o, 0)) {
      fprintf(stderr, "nx_check accepted an object outside the policy\n");
      abort();
    }
  } else if (whole && policy_ok(&o, 0) && (!(flags & NX_CHECK_MAP) || o.type == MSGPACK_OBJECT_MAP)) {
    fprintf(stderr, "nx_check refused a valid payload: %s\n", err);
    abort();
  }
  msgpack_zone_destroy(&z);
  free(copy);

  /* nx_decode must agree with nx_check. */
  msgpack_zone_init(&z, 2048);
  int decoded = nx_decode(&z, data, size, flags, &o, err, sizeof(err));
  if ((decoded == 0) != (checked == 0)) {
    fprintf(stderr, "nx_decode (%d) disagrees with nx_check (%d): %s\n", decoded, checked, err);
    abort();
  }
  msgpack_zone_destroy(&z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  one(data, size, 0);
  one(data, size, NX_CHECK_MAP);
  return 0;
}
