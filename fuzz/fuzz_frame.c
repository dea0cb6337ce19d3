/* libFuzzer target: the incremental frame reader, then nx_decode of every
 * complete frame's payload (as the worker does), over arbitrary bytes in
 * arbitrary chunkings.
 *
 * Input layout:
 *   byte 0        low 4 bits: how many chunk-size bytes follow (0..15);
 *                 high 2 bits: max_frame (64, 512, 4096 or 65536 bytes)
 *   next k bytes  chunk sizes (value + 1), used in turn, cycling
 *   the rest      the byte stream from the "server"
 *
 * Cross-checks: the frames seen (type, flags, length, payload hash) and the
 * reader's final result are the same for the chosen chunking and for the
 * whole stream fed at once; no frame exceeds max_frame; the reader never
 * holds more than max_frame; a failed reader stays failed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "frame.h"

#define MAX_SEEN 4096

typedef struct {
  size_t n;
  size_t max_frame;
  uint64_t sig[MAX_SEEN];
  int decoded[MAX_SEEN];
  nx_reader *r;
} seen;

static uint64_t fnv(const uint8_t *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

static int on_frame(void *ud, uint8_t type, uint16_t flags, const uint8_t *p, size_t len) {
  seen *s = ud;
  if (len > s->max_frame) {
    fprintf(stderr, "frame of %zu bytes above max_frame %zu\n", len, s->max_frame);
    abort();
  }
  if (s->r->cap > s->max_frame) {
    fprintf(stderr, "reader holds %zu bytes, above max_frame %zu\n", s->r->cap, s->max_frame);
    abort();
  }
  /* Touch every byte so ASan sees an out-of-bounds payload. */
  uint64_t h = fnv(p, len) ^ ((uint64_t)type << 56) ^ ((uint64_t)flags << 40) ^ len;
  msgpack_zone z;
  msgpack_zone_init(&z, 2048);
  msgpack_object o;
  char err[160];
  err[0] = 0;
  int rc = nx_decode(&z, p, len, NX_CHECK_MAP, &o, err, sizeof(err));
  if (rc == 0 && o.type != MSGPACK_OBJECT_MAP) {
    fprintf(stderr, "nx_decode accepted a payload that is not a map\n");
    abort();
  }
  if (rc != 0 && (err[0] == 0 || strlen(err) >= sizeof(err))) {
    fprintf(stderr, "nx_decode failed without a reason\n");
    abort();
  }
  msgpack_zone_destroy(&z);
  if (s->n < MAX_SEEN) {
    s->sig[s->n] = h;
    s->decoded[s->n] = rc;
  }
  s->n++;
  return 0;
}

static int feed_all(nx_reader *r, seen *s, const uint8_t *data, size_t n,
                    const uint8_t *sizes, size_t nsizes) {
  int rc = NX_READ_OK;
  size_t off = 0, i = 0;
  while (off < n) {
    size_t chunk = nsizes ? (size_t)sizes[i++ % nsizes] + 1 : n;
    if (chunk > n - off) chunk = n - off;
    /* A copy of exactly `chunk` bytes: reads past the chunk are caught. */
    uint8_t *c = malloc(chunk);
    memcpy(c, data + off, chunk);
    int k = nx_reader_feed(r, c, chunk, on_frame, s);
    free(c);
    off += chunk;
    if (k != NX_READ_OK) {
      if (rc == NX_READ_OK) rc = k;
      /* Once failed, the reader must keep failing and call nothing. */
      size_t before = s->n;
      if (r->failed && nx_reader_feed(r, data, n, on_frame, s) != NX_READ_PROTO) abort();
      if (s->n != before) abort();
      break;
    }
  }
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t nsizes = data[0] & 0x0f;
  static const size_t frames[4] = {64, 512, 4096, 65536};
  size_t max_frame = frames[(data[0] >> 4) & 3];
  if (size < 1 + nsizes) return 0;
  const uint8_t *sizes = data + 1;
  const uint8_t *stream = data + 1 + nsizes;
  size_t n = size - 1 - nsizes;

  static seen a, b;
  nx_reader ra, rb;
  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  a.max_frame = b.max_frame = max_frame;
  nx_reader_init(&ra, max_frame);
  nx_reader_init(&rb, max_frame);
  a.r = &ra;
  b.r = &rb;
  int rca = feed_all(&ra, &a, stream, n, sizes, nsizes);
  int rcb = feed_all(&rb, &b, stream, n, NULL, 0);
  if (rca != rcb || a.n != b.n) {
    fprintf(stderr, "chunking changed the outcome: rc %d/%d frames %zu/%zu\n", rca, rcb, a.n, b.n);
    abort();
  }
  size_t m = a.n < MAX_SEEN ? a.n : MAX_SEEN;
  for (size_t i = 0; i < m; i++) {
    if (a.sig[i] != b.sig[i] || a.decoded[i] != b.decoded[i]) {
      fprintf(stderr, "frame %zu differs between chunkings\n", i);
      abort();
    }
  }
  if (rca == NX_READ_PROTO && strcmp(ra.error, rb.error) != 0) {
    fprintf(stderr, "errors differ: '%s' / '%s'\n", ra.error, rb.error);
    abort();
  }
  nx_reader_free(&ra);
  nx_reader_free(&rb);
  return 0;
}
