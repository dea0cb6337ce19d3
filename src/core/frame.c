#include "frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nx_frame_header(uint8_t out[NX_HEADER_SIZE], uint8_t type, uint32_t len) {
  out[0] = 0x4E; out[1] = 0x45; out[2] = 0x58; out[3] = 0x41;
  out[4] = NX_VERSION;
  out[5] = type;
  out[6] = 0;
  out[7] = 0;
  out[8] = (uint8_t)(len >> 24);
  out[9] = (uint8_t)(len >> 16);
  out[10] = (uint8_t)(len >> 8);
  out[11] = (uint8_t)len;
}

void nx_reader_init(nx_reader *r, size_t max_frame) {
  memset(r, 0, sizeof(*r));
  r->max_frame = max_frame;
}

void nx_reader_free(nx_reader *r) {
  free(r->buf);
  r->buf = NULL;
  r->cap = r->have = 0;
}

static int fail(nx_reader *r, const char *msg, unsigned long v) {
  r->failed = 1;
  snprintf(r->error, sizeof(r->error), msg, v);
  return NX_READ_PROTO;
}

static uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Checks a complete header; fills type, flags, len. */
static int parse_header(nx_reader *r) {
  uint32_t magic = be32(r->hdr);
  if (magic != NX_MAGIC) return fail(r, "bad frame magic 0x%08lx", (unsigned long)magic);
  if (r->hdr[4] != NX_VERSION) return fail(r, "unsupported protocol version %lu", r->hdr[4]);
  r->type = r->hdr[5];
  r->flags = (uint16_t)((r->hdr[6] << 8) | r->hdr[7]);
  r->len = be32(r->hdr + 8);
  if ((size_t)r->len > r->max_frame)
    return fail(r, "frame of %lu bytes is larger than maxFrameBytes", (unsigned long)r->len);
  return NX_READ_OK;
}

/* Makes room for `want` more payload bytes, never beyond the frame's length:
 * memory follows the bytes received, not the length claimed. NX_FRAME_SLACK
 * bytes more follow the room. */
static int reserve(nx_reader *r, size_t want) {
  size_t need = r->have + want;
  if (need <= r->cap) return NX_READ_OK;
  size_t cap = r->cap ? r->cap : 4096;
  while (cap < need) cap *= 2;
  if (cap > r->len) cap = r->len;
  uint8_t *p = realloc(r->buf, cap + NX_FRAME_SLACK);
  if (!p) {
    r->failed = 1;
    snprintf(r->error, sizeof(r->error), "out of memory for a %lu-byte frame", (unsigned long)r->len);
    return NX_READ_NOMEM;
  }
  r->buf = p;
  r->cap = cap;
  return NX_READ_OK;
}

/* Drops a large buffer after its frame so one big event does not pin memory. */
static void after_frame(nx_reader *r) {
  r->hdr_have = 0;
  r->have = 0;
  if (r->cap > 256 * 1024) nx_reader_free(r);
}

int nx_reader_feed(nx_reader *r, const uint8_t *data, size_t n,
                   nx_frame_cb cb, void *ud) {
  if (r->failed) return NX_READ_PROTO;
  while (n > 0) {
    if (r->hdr_have < NX_HEADER_SIZE) {
      size_t take = NX_HEADER_SIZE - r->hdr_have;
      if (take > n) take = n;
      memcpy(r->hdr + r->hdr_have, data, take);
      r->hdr_have += take;
      data += take;
      n -= take;
      if (r->hdr_have < NX_HEADER_SIZE) break;
      int rc = parse_header(r);
      if (rc) return rc;
      r->have = 0;
    }
    size_t missing = r->len - r->have;
    const uint8_t *payload;
    if (r->have == 0 && n >= missing) {
      /* The whole payload is in this chunk: hand it over without a copy. */
      payload = data;
    } else {
      if (n == 0) break;
      size_t take = missing < n ? missing : n;
      int rc = reserve(r, take);
      if (rc) return rc;
      memcpy(r->buf + r->have, data, take);
      r->have += take;
      data += take;
      n -= take;
      if (r->have < r->len) break;
      memset(r->buf + r->len, 0, NX_FRAME_SLACK);
      payload = r->buf;
      missing = 0;
    }
    data += missing;
    n -= missing;
    uint8_t type = r->type;
    uint16_t flags = r->flags;
    size_t len = r->len;
    int stop = cb(ud, type, flags, payload, len);
    after_frame(r);
    if (stop) return stop;
  }
  return NX_READ_OK;
}
