/* libFuzzer target: the incremental frame reader, then nx_decode of every
 * complete frame's payload (as the worker does), and for each payload that
 * decodes, the tape (nx_tape_append, as the worker does for change events
 * and answers) read back by a checker that mirrors lib/tape.js: every op known,
 * every id announced first, every offset inside its string segment or bin
 * bytes, and the event's ops and numbers consumed exactly; over arbitrary
 * bytes in arbitrary chunkings.
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
#include "tape.h"

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

/* ---- the tape, read back as lib/tape.js reads it ---- */

/* One set of tables for the process, as a worker keeps them for its
 * lifetime; the checker mirrors what they have announced. */
static nx_tape_tables *tables;
static nx_tape tape;
static uint8_t key_known[NX_TAPE_KEYS], val_known[NX_TAPE_VALS];
static int shape_keys[NX_TAPE_SHAPES]; /* 0: not announced; else 1 + its key count */

static int answer; /* the payload being read back is an answer, not an event */

typedef struct {
  size_t p, np;
  size_t seg; /* the string segment being read */
} reader;

#define FAIL(...) do { fprintf(stderr, "tape: " __VA_ARGS__); fprintf(stderr, "\n"); abort(); } while (0)

static uint32_t next_op(reader *r) {
  if (r->p >= tape.nops) FAIL("ran past the event's ops (%zu)", tape.nops);
  return (uint32_t)tape.ops[r->p++];
}

/* Segment k's length in UTF-16 units, counted from its UTF-8 bytes. */
static size_t segment_units(size_t k) {
  size_t from = k ? tape.segs[k - 1] : 0, to = k < tape.nsegs ? tape.segs[k] : tape.nstr, units = 0;
  for (size_t i = from; i < to; i++) {
    uint8_t c = (uint8_t)tape.str[i];
    if ((c & 0xC0) != 0x80) units += c >= 0xF0 ? 2 : 1;
  }
  return units;
}

static void check_str(const reader *r, uint32_t off, uint32_t len) {
  /* The last segment is str16 UTF-16 units long, as it counts them; an
   * earlier one (an answer began new ones) is counted here. */
  size_t units = r->seg == tape.nsegs ? tape.str16 : segment_units(r->seg);
  if ((uint64_t)off + len > units) FAIL("string %u+%u past its segment (%zu units)", off, len, units);
}

/* A segment begun inside a payload: only an answer's, and only before a string. */
static void next_segment(reader *r) {
  if (!answer) FAIL("a segment begins inside an event");
  if (++r->seg > tape.nsegs) FAIL("more segments than the tape has");
  if (r->p >= tape.nops || tape.ops[r->p] != NX_T_STR) FAIL("a segment begins, then no string");
}

static void value(reader *r, int depth) {
  if (depth > NX_MAX_DOC_DEPTH + 3) FAIL("nested deeper than the check allows");
  for (;;) {
    uint32_t op = next_op(r), a, b, n;
    switch (op) {
      case NX_T_NEWKEY:
      case NX_T_NEWVAL:
        if (op == NX_T_NEWVAL && answer) FAIL("an answer's value interned");
        a = next_op(r);
        b = next_op(r);
        check_str(r, b, next_op(r));
        if (op == NX_T_NEWKEY ? a >= NX_TAPE_KEYS : a >= NX_TAPE_VALS) FAIL("id %u out of range", a);
        if (op == NX_T_NEWKEY) key_known[a] = 1;
        else val_known[a] = 1;
        continue;
      case NX_T_NEWSHAPE:
        a = next_op(r);
        n = next_op(r);
        if (a >= NX_TAPE_SHAPES || n > NX_TAPE_MAX_SHAPE_KEYS) FAIL("shape %u of %u keys", a, n);
        for (uint32_t i = 0; i < n; i++)
          if (!key_known[b = next_op(r)]) FAIL("shape of an unannounced key %u", b);
        shape_keys[a] = (int)n + 1;
        continue;
      case NX_T_SEG:
        next_segment(r);
        continue;
      case NX_T_STR:
        a = next_op(r);
        check_str(r, a, next_op(r));
        return;
      case NX_T_NUM:
        if (r->np >= tape.nnums) FAIL("ran past the numbers");
        r->np++;
        return;
      case NX_T_U64:
      case NX_T_I64:
        next_op(r);
        next_op(r);
        return;
      case NX_T_TRUE:
      case NX_T_FALSE:
      case NX_T_NULL:
        return;
      case NX_T_BIN:
        a = next_op(r);
        b = next_op(r);
        if ((uint64_t)a + b > tape.nbins) FAIL("bin %u+%u past %zu bytes", a, b, tape.nbins);
        return;
      case NX_T_ARR:
        n = next_op(r);
        for (uint32_t i = 0; i < n; i++) value(r, depth + 1);
        return;
      case NX_T_MAP:
        a = next_op(r);
        if (a >= NX_TAPE_SHAPES || !shape_keys[a]) FAIL("unannounced shape %u", a);
        for (int i = 0; i < shape_keys[a] - 1; i++) value(r, depth + 1);
        return;
      case NX_T_MAPK:
        n = next_op(r);
        for (uint32_t i = 0; i < n; i++) {
          /* A key is KEY or STR, nothing else (lib/tape.js): what it
           * needs is announced before the map. */
          if ((a = next_op(r)) == NX_T_SEG) {
            next_segment(r);
            a = next_op(r);
          }
          if (a == NX_T_KEY) {
            if ((a = next_op(r)) >= NX_TAPE_KEYS || !key_known[a]) FAIL("unannounced key %u", a);
          } else if (a == NX_T_STR) {
            a = next_op(r);
            check_str(r, a, next_op(r));
          } else {
            FAIL("a map's key is op %u, not KEY or STR", a);
          }
          value(r, depth + 1);
        }
        return;
      case NX_T_VAL:
        if (answer) FAIL("an answer's value interned");
        if ((a = next_op(r)) >= NX_TAPE_VALS || !val_known[a]) FAIL("unannounced value %u", a);
        return;
      default:
        FAIL("unknown op %u at %zu", op, r->p - 1);
    }
  }
}

/* Puts a payload nx_decode accepted on the tape, as the worker does (in
 * place, followed by whatever the read buffer holds: here 0xff bytes, never
 * the zeros a reader might come to rely on), and reads it back. */
static void tape_roundtrip(const uint8_t *payload, size_t len, nx_tape_payload what) {
  if (!tables) tables = nx_tape_tables_new();
  if (!tables) return;
  uint8_t *padded = malloc(len + NX_DECODE_SLACK);
  if (!padded) return;
  if (len) memcpy(padded, payload, len);
  memset(padded + len, 0xff, NX_DECODE_SLACK);
  if (tape.nstr > (1u << 20) || tape.nops > (1u << 20)) nx_tape_reset(&tape); /* a batch handed over */
  reader r = {tape.nops, tape.nnums, tape.nsegs};
  size_t segs = tape.nsegs;
  answer = what == NX_TAPE_ANSWER;
  size_t elements = 0;
  char err[160];
  if (nx_check_padded(padded, len, NX_CHECK_MAP, 0, &elements, err, sizeof(err))) FAIL("the check refused in place what nx_decode accepted: %s", err);
  int failed = nx_tape_append(tables, &tape, padded, len, elements, what);
  free(padded);
  if (failed) {
    /* Out of memory: the tables refuse every later event; start afresh. */
    nx_tape_tables_free(tables);
    tables = NULL;
    nx_tape_free(&tape);
    memset(key_known, 0, sizeof(key_known));
    memset(val_known, 0, sizeof(val_known));
    memset(shape_keys, 0, sizeof(shape_keys));
    return;
  }
  if (!answer && tape.nsegs > segs + 1) FAIL("one event began %zu segments", tape.nsegs - segs);
  if (tape.nsegs - segs > 1 + len / NX_TAPE_SEG) FAIL("an answer of %zu bytes began %zu segments", len, tape.nsegs - segs);
  if (r.p < tape.nops && tape.ops[r.p] == NX_T_SEG) {
    r.p++;
    r.seg++;
  } else if (!answer && tape.nsegs == segs + 1) {
    FAIL("a new segment without its op first");
  }
  value(&r, 0);
  if (r.seg != tape.nsegs) FAIL("read %zu segments of the %zu begun", r.seg - segs, tape.nsegs - segs);
  if (r.p != tape.nops || r.np != tape.nnums) FAIL("event not read exactly: ops %zu of %zu, numbers %zu of %zu", r.p, tape.nops, r.np, tape.nnums);
}

static seen *tape_pass; /* the run whose frames go on the tape (one of the two chunkings) */

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
  if (rc == 0 && s == tape_pass) tape_roundtrip(p, len, type == NX_MSG_CHANGE_EVENT ? NX_TAPE_EVENT : NX_TAPE_ANSWER);
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
  tape_pass = &a;
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
