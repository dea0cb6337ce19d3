/* The frame reader, the strict payload check, the decoder (against
 * msgpack-c's unpacker) and request encoding. */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "fixtures.h"
#include "frame.h"
#include "harness.h"
#include "internal.h"
#include "nx.h"
#include "tests.h"

typedef struct {
  int frames;
  uint8_t types[16];
  size_t lens[16];
} frames_seen;

static int count_frame(void *ud, uint8_t type, uint16_t flags, const uint8_t *p, size_t len) {
  frames_seen *s = ud;
  (void)flags; (void)p;
  if (s->frames < 16) {
    s->types[s->frames] = type;
    s->lens[s->frames] = len;
  }
  s->frames++;
  return 0;
}

void test_reader_chunkings(void) {
  uint8_t a[256], b[256], both[512];
  size_t na = unhex(CONNECT_OK, a), nb = unhex(PONG, b);
  memcpy(both, a, na);
  memcpy(both + na, b, nb);
  size_t n = na + nb;
  int all_ok = 1;
  for (size_t chunk = 1; chunk <= n; chunk++) {
    nx_reader r;
    frames_seen s = {0};
    nx_reader_init(&r, 1 << 20);
    for (size_t off = 0; off < n; off += chunk) {
      size_t k = n - off < chunk ? n - off : chunk;
      if (nx_reader_feed(&r, both + off, k, count_frame, &s) != NX_READ_OK) all_ok = 0;
    }
    if (s.frames != 2 || s.types[0] != NX_MSG_SUCCESS || s.lens[0] != 102 || s.types[1] != NX_MSG_PONG || s.lens[1] != 30) all_ok = 0;
    nx_reader_free(&r);
  }
  CHECK(all_ok, "two frames decode identically in every chunk size");

  /* Random split points. */
  srand(7);
  int rand_ok = 1;
  for (int round = 0; round < 500; round++) {
    nx_reader r;
    frames_seen s = {0};
    nx_reader_init(&r, 1 << 20);
    size_t off = 0;
    while (off < n) {
      size_t k = 1 + (size_t)rand() % 40;
      if (k > n - off) k = n - off;
      nx_reader_feed(&r, both + off, k, count_frame, &s);
      off += k;
    }
    if (s.frames != 2) rand_ok = 0;
    nx_reader_free(&r);
  }
  CHECK(rand_ok, "random chunkings give both frames");
}

/* An ingest that is never given a frame: no batch, no handover. */
static nx_batch *no_batch(void *ud) {
  (void)ud;
  return NULL;
}

static void no_handover(void *ud) {
  (void)ud;
}

/* What a frame's callback sees after the payload: the slack. */
typedef struct {
  int frames;
  int slack_zero;   /* every payload kept by the reader had zeros after it */
  const uint8_t *at; /* where the last payload was */
} slack_seen;

static int note_slack(void *ud, uint8_t type, uint16_t flags, const uint8_t *p, size_t len) {
  slack_seen *s = ud;
  (void)type; (void)flags;
  uint8_t after[NX_FRAME_SLACK];
  memcpy(after, p + len, NX_FRAME_SLACK); /* out of bounds, under ASan, if the slack were missing */
  for (size_t i = 0; i < NX_FRAME_SLACK; i++)
    if (after[i] != 0) s->slack_zero = 0;
  s->at = p;
  s->frames++;
  return 0;
}

/* A frame of `len` payload bytes of 0xff into out (header first); its size. */
static size_t frame_of(uint8_t *out, uint32_t len) {
  nx_frame_header(out, NX_MSG_CHANGE_EVENT, len);
  memset(out + NX_HEADER_SIZE, 0xff, len);
  return NX_HEADER_SIZE + len;
}

/* The payloads the reader keeps (split across chunks) have NX_FRAME_SLACK
 * zero bytes after them, at every size its buffer takes: first use, grown,
 * reused for a smaller frame. One whole in its chunk is handed over in
 * place. (The check and the tape read events where the reader left them.) */
void test_reader_slack(void) {
  static const uint32_t lens[] = {2, 15, 3000, 4096, 5000, 20000, 700, 9000};
  int ok = 1;
  nx_reader r;
  nx_reader_init(&r, 1 << 20);
  for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
    uint8_t *f = calloc(1, NX_HEADER_SIZE + lens[k] + NX_FRAME_SLACK); /* a chunk has the slack too */
    size_t n = frame_of(f, lens[k]);
    slack_seen s = {0, 1, NULL};
    size_t half = NX_HEADER_SIZE + lens[k] / 2; /* part of the payload in each chunk */
    nx_reader_feed(&r, f, half, note_slack, &s);
    nx_reader_feed(&r, f + half, n - half, note_slack, &s);
    if (s.frames != 1 || !s.slack_zero || s.at == f + NX_HEADER_SIZE) ok = 0;
    free(f);
  }
  nx_reader_free(&r);
  CHECK(ok, "a payload split across chunks has NX_FRAME_SLACK zero bytes after it (first, grown and reused buffers)");

  uint8_t *chunk = calloc(1, NX_HEADER_SIZE + 100 + NX_FRAME_SLACK);
  size_t n = frame_of(chunk, 100);
  slack_seen s = {0, 1, NULL};
  nx_reader_init(&r, 1 << 20);
  nx_reader_feed(&r, chunk, n, note_slack, &s);
  CHECK(s.frames == 1 && s.at == chunk + NX_HEADER_SIZE, "a payload whole in its chunk is handed over in place");
  nx_reader_free(&r);
  free(chunk);

  /* The worker's read buffer: a frame read in place at its very end still
   * has the slack after it, in the buffer. */
  nx_ingest *in = calloc(1, sizeof(*in));
  CHECK(in && nx__ingest_init(in, no_batch, no_handover, NULL) == 0, "an ingest");
  if (in) {
    uv_buf_t lent = nx__ingest_read_buf(in);
    CHECK(lent.base == in->rbuf && lent.len + NX_FRAME_SLACK == sizeof(in->rbuf),
          "libuv is lent the read buffer but its last NX_FRAME_SLACK bytes (%zu of %zu)", (size_t)lent.len, sizeof(in->rbuf));
    nx__ingest_free(in);
    free(in);
  }
}

void test_reader_errors(void) {
  uint8_t f[64];
  size_t n = unhex(PING_REQ, f);
  nx_reader r;
  frames_seen s = {0};

  f[0] = 0x12;
  nx_reader_init(&r, 1024);
  CHECK(nx_reader_feed(&r, f, n, count_frame, &s) == NX_READ_PROTO, "bad magic is a protocol error");
  CHECK(strstr(r.error, "magic") != NULL, "error names the magic: %s", r.error);
  CHECK(nx_reader_feed(&r, f, n, count_frame, &s) == NX_READ_PROTO, "a failed reader stays failed");
  nx_reader_free(&r);

  n = unhex(PING_REQ, f);
  f[4] = 2;
  nx_reader_init(&r, 1024);
  CHECK(nx_reader_feed(&r, f, n, count_frame, &s) == NX_READ_PROTO, "bad version is a protocol error");
  nx_reader_free(&r);

  /* A header claiming 1 GiB under a 2 GiB limit: memory follows the bytes. */
  uint8_t big[NX_HEADER_SIZE + 100];
  nx_frame_header(big, NX_MSG_CHANGE_EVENT, 1u << 30);
  memset(big + NX_HEADER_SIZE, 0xa0, 100);
  nx_reader_init(&r, (size_t)2 << 30);
  CHECK(nx_reader_feed(&r, big, sizeof(big), count_frame, &s) == NX_READ_OK, "partial big frame accepted");
  CHECK(r.cap <= 4096, "no allocation of the claimed size (cap %zu)", r.cap);
  nx_reader_free(&r);

  nx_reader_init(&r, 1000);
  nx_frame_header(big, NX_MSG_CHANGE_EVENT, 1001);
  CHECK(nx_reader_feed(&r, big, NX_HEADER_SIZE, count_frame, &s) == NX_READ_PROTO, "frame above max_frame refused");
  CHECK(strstr(r.error, "maxFrameBytes") != NULL, "error says why: %s", r.error);
  nx_reader_free(&r);
}

static int check(const char *hex, int flags) {
  uint8_t b[4096];
  char err[128];
  size_t n = unhex(hex, b);
  return nx_check(b, n, flags, err, sizeof(err));
}

/* A str8 of these n bytes through the check, with bytes >= 0x80 in the
 * slack after it (a frame's next bytes, say). */
static int check_str(const char *bytes, size_t n) {
  uint8_t b[300];
  char err[128];
  b[0] = 0xd9;
  b[1] = (uint8_t)n;
  memcpy(b + 2, bytes, n);
  memset(b + 2 + n, 0xff, NX_DECODE_SLACK);
  return nx_check_padded(b, n + 2, 0, 0, NULL, err, sizeof(err));
}

/* Strings of any length are read eight bytes at a time for ASCII; what
 * follows the first byte >= 0x80 is held to strict UTF-8 wherever it is. */
static void check_long_strings(void) {
  char s[64];
  memset(s, 'a', sizeof(s));
  CHECK(check_str(s, 40) == 0, "a 40-byte ASCII string passes");
  CHECK(check_str(s, 17) == 0, "a 17-byte ASCII string passes");
  s[16] = (char)0x80;
  CHECK(check_str(s, 17) != 0, "a lone continuation byte as the 17th of 17 is refused");
  s[16] = 'a';
  s[33] = (char)0xc3;
  CHECK(check_str(s, 40) != 0, "a 2-byte sequence cut short at byte 34 of 40 is refused");
  s[34] = (char)0xa9;
  CHECK(check_str(s, 40) == 0, "a 2-byte character at byte 34 of 40 passes");
  memcpy(s + 24, "\xed\xa0\x80", 3);
  CHECK(check_str(s, 40) != 0, "a surrogate after 24 ASCII bytes is refused");
  memcpy(s + 24, "\xe2\x82\xac", 3);
  CHECK(check_str(s, 40) == 0, "a 3-byte character after 24 ASCII bytes passes");
  memset(s, 'a', sizeof(s));
  s[39] = (char)0xf0;
  CHECK(check_str(s, 40) != 0, "a 4-byte lead as the last byte is refused");
  s[39] = 'a';
  CHECK(check_str(s, 35) == 0, "the bytes after a 35-byte string are not the string's");
  CHECK(check_str(s, 5) == 0, "nor after a 5-byte one");
}

void test_check(void) {
  check_long_strings();
  uint8_t f[512];
  size_t n = unhex(CONNECT_OK, f);
  char err[128];
  CHECK(nx_check(f + NX_HEADER_SIZE, n - NX_HEADER_SIZE, NX_CHECK_MAP, err, sizeof(err)) == 0, "recorded answer passes: %s", err);
  n = unhex(DELETE_EVENT, f);
  CHECK(nx_check(f + NX_HEADER_SIZE, n - NX_HEADER_SIZE - 1, NX_CHECK_MAP, err, sizeof(err)) == 0, "recorded event passes: %s", err);
  CHECK(nx_check(f + NX_HEADER_SIZE, n - NX_HEADER_SIZE, NX_CHECK_MAP, err, sizeof(err)) != 0, "a trailing byte is refused");
  CHECK(nx_check(f + NX_HEADER_SIZE, n - NX_HEADER_SIZE - 8, NX_CHECK_MAP, err, sizeof(err)) != 0, "truncation is refused");
  CHECK(check("93010203", NX_CHECK_MAP) != 0, "a non-map payload is refused when a map is required");
  CHECK(check("93010203", 0) == 0, "an array is fine otherwise");
  CHECK(check("ddffffffff01", 0) != 0, "an array count beyond the payload is refused");
  CHECK(check("dfffffffff", 0) != 0, "a map count beyond the payload is refused");
  CHECK(check("81a161d40100", 0) != 0, "ext types are refused");
  CHECK(check("81a161c1", 0) != 0, "0xc1 is refused");
  CHECK(check("810102", 0) != 0, "an integer map key is refused");
  CHECK(check("81a161a2c328", 0) != 0, "invalid UTF-8 is refused");
  CHECK(check("81a161a4f09f9a80", 0) == 0, "a 4-byte UTF-8 character passes");
  CHECK(check("a3eda080", 0) != 0, "a UTF-8 surrogate is refused");
  CHECK(check("81a161c40201ff", 0) == 0, "bin values pass the check");

  /* Nesting outside any document key: the root and NX_MAX_DOC_DEPTH levels. */
  uint8_t deep[NX_MAX_DOC_DEPTH + 8];
  for (int d = NX_MAX_DOC_DEPTH + 1; d <= NX_MAX_DOC_DEPTH + 2; d++) {
    for (int i = 0; i < d; i++) deep[i] = 0x91;
    deep[d] = 0x01;
    int rc = nx_check(deep, (size_t)d + 1, 0, err, sizeof(err));
    if (d == NX_MAX_DOC_DEPTH + 1) CHECK(rc == 0, "%d levels pass: %s", d, err);
    else CHECK(rc != 0 && strstr(err, "nested more than 100 levels deep"), "%d levels refused: %s", d, err);
  }
}

/* Depth of a decoded value: levels of containers down its first element. */
static int depth_of(const msgpack_object *o) {
  int d = 0;
  for (;;) {
    if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size) o = &o->via.array.ptr[0];
    else if (o->type == MSGPACK_OBJECT_MAP && o->via.map.size) o = &o->via.map.ptr[0].val;
    else return d + (o->type == MSGPACK_OBJECT_ARRAY || o->type == MSGPACK_OBJECT_MAP);
    d++;
  }
}

void test_document_depth(void) {
  /* Where the server puts documents, and how many levels it adds. */
  static const struct { const char *key; int envelope; } where[] = {
    {"document", 1}, {"fullDocument", 1}, {"data", 1}, {"updates", 1}, {"other", 1},
    {"documents", 2}, {"updateDescription", 2}, {"filters", 2}, {"results", 3},
  };
  uint8_t buf[4096];
  char err[160];
  for (size_t k = 0; k < sizeof(where) / sizeof(where[0]); k++) {
    for (int maps = 0; maps <= 1; maps++) {
      /* The levels under the key: a document at the limit inside its envelope. */
      int at_limit = NX_MAX_DOC_DEPTH + where[k].envelope - 1;
      size_t n = nested_payload(buf, where[k].key, at_limit, maps);
      msgpack_zone z;
      msgpack_zone_init(&z, 1024);
      msgpack_object o;
      int rc = nx_decode(&z, buf, n, NX_CHECK_MAP, &o, err, sizeof(err));
      CHECK(rc == 0 && depth_of(&o) == at_limit + 1, "under %s: %d levels decode (%s)", where[k].key, at_limit, err);
      msgpack_zone_destroy(&z);
      n = nested_payload(buf, where[k].key, at_limit + 1, maps);
      msgpack_zone_init(&z, 1024);
      rc = nx_decode(&z, buf, n, NX_CHECK_MAP, &o, err, sizeof(err));
      CHECK(rc == NX_DECODE_BAD && strstr(err, "a document nested more than 100 levels deep"),
            "under %s: one level more is refused: %s", where[k].key, err);
      msgpack_zone_destroy(&z);
    }
  }
  /* A bound of its own (the dev server's): past the inline stacks. */
  uint8_t *big = malloc(5002);
  for (int i = 0; i < 5001; i++) big[i] = 0x91;
  big[5001] = 0x01;
  msgpack_zone z;
  msgpack_zone_init(&z, 1024);
  msgpack_object o;
  CHECK(nx_decode_levels(&z, big + 1, 5001, 0, 5000, &o, err, sizeof(err)) == 0 && depth_of(&o) == 5000,
        "5,000 levels decode under a bound of 5,000: %s", err);
  CHECK(nx_decode_levels(&z, big, 5002, 0, 5000, &o, err, sizeof(err)) == NX_DECODE_BAD && strstr(err, "more than 5000 levels"),
        "5,001 are refused: %s", err);
  CHECK(nx_check_levels(big, 5002, 0, 5001, err, sizeof(err)) == 0, "nx_check_levels agrees: %s", err);
  msgpack_zone_destroy(&z);
  free(big);
}

/* The decoder builds what msgpack-c's unpacker builds, value for value. */
void test_decoder_matches_msgpack_c(void) {
  static const char *payloads[] = {
    /* {null: nil, t: true, f: false, ints: [every integer encoding, 1 as int8]} */
    "84a46e756c6cc0a174c3a166c2a4696e74739d00017fccffcdffffceffffffffcfffffffffffffffffe0d080d18000d280000000d38000000000000000d001",
    "83a3663332ca3fc00000a3663634cb400921fb54442d18a3737472d90568656c6c6f", /* float32, float64, str8 */
    "82a362696ec40301ff00a3656d7083a16d80a16190a173a0", /* bin, empty map, array and string */
    "81a16bdc0003a178da000179db000000017a",             /* array16, str16, str32 */
    "81a16dde0001a16bdf00000001a16c01",                 /* map16, map32 */
  };

  char err[160];
  for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
    uint8_t b[256];
    size_t n = unhex(payloads[i], b);
    msgpack_zone z1, z2;
    msgpack_zone_init(&z1, 1024);
    msgpack_zone_init(&z2, 1024);
    msgpack_object mine, theirs;
    size_t off = 0;
    int rc = nx_decode(&z1, b, n, 0, &mine, err, sizeof(err));
    msgpack_unpack_return ur = msgpack_unpack((const char *)b, n, &off, &z2, &theirs);
    CHECK(rc == 0 && ur == MSGPACK_UNPACK_SUCCESS && off == n, "payload %zu decodes both ways: %s", i, err);
    if (rc == 0 && ur == MSGPACK_UNPACK_SUCCESS) CHECK(msgpack_object_equal(mine, theirs), "payload %zu: the same objects", i);
    msgpack_zone_destroy(&z1);
    msgpack_zone_destroy(&z2);
  }
}

void test_decode_encode(void) {
  uint8_t f[512];
  size_t n = unhex(DELETE_EVENT, f) - 1;
  msgpack_zone z;
  msgpack_zone_init(&z, 1024);
  msgpack_object o;
  char err[128];
  CHECK(nx_decode(&z, f + NX_HEADER_SIZE, n - NX_HEADER_SIZE, NX_CHECK_MAP, &o, err, sizeof(err)) == 0, "event decodes");
  const msgpack_object *op = map_get(&o, "operationType");
  CHECK(op && op->type == MSGPACK_OBJECT_STR && op->via.str.size == 6 && memcmp(op->via.str.ptr, "delete", 6) == 0, "operationType is delete");
  const msgpack_object *ts = map_get(&o, "timestamp");
  CHECK(ts && ts->type == MSGPACK_OBJECT_FLOAT64 && ts->via.f64 > 1.7e9, "timestamp is a float64");
  CHECK(o.via.map.size == 4, "four keys");
  msgpack_zone_destroy(&z);

  msgpack_sbuffer sb;
  uint8_t want[128];
  size_t wn = unhex(CONNECT_REQ, want);
  CHECK(nx_encode_connect(&sb, "root", 4, "nexadb123", 9) == 0, "CONNECT encodes");
  CHECK(sb.size == wn && memcmp(sb.data, want, wn) == 0, "CONNECT bytes equal the recorded request");
  msgpack_sbuffer_destroy(&sb);
  wn = unhex(PING_REQ, want);
  CHECK(nx_encode_empty(&sb, NX_MSG_PING) == 0 && sb.size == wn && memcmp(sb.data, want, wn) == 0, "PING bytes equal the recorded request");
  msgpack_sbuffer_destroy(&sb);
}

/* Hardening (issue 5): cases the fuzzers found or guard. */
void test_check_empty_container_depth(void) {
  /* An empty container is a level too: at the limit it passes, one past it
   * is refused, by the check and the decoder alike. */
  uint8_t deep[NX_MAX_DOC_DEPTH + 8];
  char err[160];
  for (int d = NX_MAX_DOC_DEPTH; d <= NX_MAX_DOC_DEPTH + 1; d++) {
    for (int i = 0; i < d; i++) deep[i] = 0x91;
    deep[d] = 0x90;
    int rc = nx_check(deep, (size_t)d + 1, 0, err, sizeof(err));
    msgpack_zone z;
    msgpack_zone_init(&z, 1024);
    msgpack_object o;
    int dec = nx_decode(&z, deep, (size_t)d + 1, 0, &o, err, sizeof(err));
    msgpack_zone_destroy(&z);
    if (d == NX_MAX_DOC_DEPTH) CHECK(rc == 0 && dec == 0, "an empty array at level %d passes and decodes: %s", d + 1, err);
    else CHECK(rc != 0 && dec != 0 && strstr(err, "deep"), "an empty array at level %d is refused as too deep: %s", d + 1, err);
  }
}
