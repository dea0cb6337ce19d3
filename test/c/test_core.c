/* Unit tests of the C core, without Node: frame reader, payload checker and
 * decoder, request encoding, and the worker against a scripted server. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "frame.h"
#include "nx.h"
#include "tape.h"

static int passed, failed;
#define CHECK(cond, ...)                                      \
  do {                                                        \
    if (cond) passed++;                                       \
    else {                                                    \
      failed++;                                               \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);    \
      fprintf(stderr, __VA_ARGS__);                           \
      fprintf(stderr, "\n");                                  \
    }                                                         \
  } while (0)

static size_t unhex(const char *h, uint8_t *out) {
  size_t n = strlen(h) / 2;
  for (size_t i = 0; i < n; i++) sscanf(h + 2 * i, "%2hhx", &out[i]);
  return n;
}

/* Frames recorded from the reference server (reference-transcripts.json). */
static const char *CONNECT_REQ = "4e455841010100000000002282a8757365726e616d65a4726f6f74a870617373776f7264a96e6578616462313233";
static const char *CONNECT_OK = "4e455841018100000000006686a6737461747573a9636f6e6e6563746564a6736572766572b64e65786144422042696e6172792050726f746f636f6ca776657273696f6ea5312e302e30ad61757468656e74696361746564c3a8757365726e616d65a4726f6f74a4726f6c65a561646d696e";
static const char *PING_REQ = "4e455841010900000000000180";
static const char *PONG = "4e455841018800000000001e82a6737461747573a26f6ba974696d657374616d70cb41dac1ffc0ffa01b";
static const char *BAD_PASSWORD = "4e455841018200000000002481a56572726f72bc496e76616c696420757365726e616d65206f722070617373776f7264";
static const char *GOODBYE = "4e455841018100000000001081a6737461747573a7676f6f64627965";
static const char *DELETE_EVENT = "4e455841019000000000006584ad6f7065726174696f6e54797065a664656c657465a26e7382a26462a66e6578616462a4636f6c6ca66f7264657273a974696d657374616d70cb41dac1ffc1074323ab646f63756d656e744b657981a35f6964b03139613264666631333866353762333800"; /* + one stray byte */

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

static void test_reader_chunkings(void) {
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
    if (s.frames != 2 || s.types[0] != 0x81 || s.lens[0] != 102 || s.types[1] != 0x88 || s.lens[1] != 30) all_ok = 0;
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

static void test_reader_errors(void) {
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
  uint8_t big[12 + 100];
  nx_frame_header(big, 0x90, 1u << 30);
  memset(big + 12, 0xa0, 100);
  nx_reader_init(&r, (size_t)2 << 30);
  CHECK(nx_reader_feed(&r, big, sizeof(big), count_frame, &s) == NX_READ_OK, "partial big frame accepted");
  CHECK(r.cap <= 4096, "no allocation of the claimed size (cap %zu)", r.cap);
  nx_reader_free(&r);

  nx_reader_init(&r, 1000);
  nx_frame_header(big, 0x90, 1001);
  CHECK(nx_reader_feed(&r, big, 12, count_frame, &s) == NX_READ_PROTO, "frame above max_frame refused");
  CHECK(strstr(r.error, "maxFrameBytes") != NULL, "error says why: %s", r.error);
  nx_reader_free(&r);
}

static int check(const char *hex, int flags) {
  uint8_t b[4096];
  char err[128];
  size_t n = unhex(hex, b);
  return nx_check(b, n, flags, err, sizeof(err));
}

static void test_check(void) {
  uint8_t f[512];
  size_t n = unhex(CONNECT_OK, f);
  char err[128];
  CHECK(nx_check(f + 12, n - 12, NX_CHECK_MAP, err, sizeof(err)) == 0, "recorded answer passes: %s", err);
  n = unhex(DELETE_EVENT, f);
  CHECK(nx_check(f + 12, n - 13, NX_CHECK_MAP, err, sizeof(err)) == 0, "recorded event passes: %s", err);
  CHECK(nx_check(f + 12, n - 12, NX_CHECK_MAP, err, sizeof(err)) != 0, "a trailing byte is refused");
  CHECK(nx_check(f + 12, n - 20, NX_CHECK_MAP, err, sizeof(err)) != 0, "truncation is refused");
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

/* A payload {key: doc} (key NULL: doc alone), doc being `levels` nested
 * one-element arrays around 1, or maps when `maps`; in `out`. */
static size_t nested_payload(uint8_t *out, const char *key, int levels, int maps) {
  size_t n = 0;
  if (key) {
    out[n++] = 0x81;
    out[n++] = (uint8_t)(0xa0 | strlen(key));
    memcpy(out + n, key, strlen(key));
    n += strlen(key);
  }
  for (int i = 0; i < levels; i++) {
    if (maps) {
      out[n++] = 0x81;
      out[n++] = 0xa1;
      out[n++] = 'a';
    } else {
      out[n++] = 0x91;
    }
  }
  out[n++] = 0x01;
  return n;
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

static void test_document_depth(void) {
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
static void test_decoder_matches_msgpack_c(void) {
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

static const msgpack_object *get(const msgpack_object *m, const char *key) {
  for (uint32_t i = 0; i < m->via.map.size; i++) {
    const msgpack_object_kv *kv = &m->via.map.ptr[i];
    if (kv->key.via.str.size == strlen(key) && memcmp(kv->key.via.str.ptr, key, strlen(key)) == 0) return &kv->val;
  }
  return NULL;
}

static void test_decode_encode(void) {
  uint8_t f[512];
  size_t n = unhex(DELETE_EVENT, f) - 1;
  msgpack_zone z;
  msgpack_zone_init(&z, 1024);
  msgpack_object o;
  char err[128];
  CHECK(nx_decode(&z, f + 12, n - 12, NX_CHECK_MAP, &o, err, sizeof(err)) == 0, "event decodes");
  const msgpack_object *op = get(&o, "operationType");
  CHECK(op && op->type == MSGPACK_OBJECT_STR && op->via.str.size == 6 && memcmp(op->via.str.ptr, "delete", 6) == 0, "operationType is delete");
  const msgpack_object *ts = get(&o, "timestamp");
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

/* ---- the worker against a scripted server ---- */

typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  nx_item items[64];
  char codes[64][32];
  char messages[64][160];
  int n;
  int changes;           /* every CHANGE item, also past the 64 kept */
  int batches_with_changes;
  int max_batch_changes;
  int pauses, resumes;   /* NX_EV_PAUSED / NX_EV_RESUMED items */
  int flow_out_of_turn;  /* a pause after a pause, or a resume not after a pause */
} sink;

static void deliver(void *ud, nx_batch *b) {
  sink *s = ud;
  pthread_mutex_lock(&s->mu);
  int changes = 0;
  for (size_t i = 0; i < b->n; i++) changes += b->items[i].kind == NX_EV_CHANGE;
  s->changes += changes;
  if (changes) s->batches_with_changes++;
  if (changes > s->max_batch_changes) s->max_batch_changes = changes;
  for (size_t i = 0; i < b->n; i++) {
    if (b->items[i].kind == NX_EV_PAUSED) s->flow_out_of_turn += s->pauses++ != s->resumes;
    if (b->items[i].kind == NX_EV_RESUMED) s->flow_out_of_turn += ++s->resumes != s->pauses;
  }
  for (size_t i = 0; i < b->n && s->n < 64; i++) {
    s->items[s->n] = b->items[i];
    s->items[s->n].obj.type = b->items[i].obj.type; /* payload memory is freed below */
    snprintf(s->codes[s->n], 32, "%s", b->items[i].code ? b->items[i].code : "");
    snprintf(s->messages[s->n], 160, "%s", b->items[i].message ? b->items[i].message : "");
    s->n++;
  }
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  nx_batch_free(b);
}

/* Waits until `count` items arrived (or 5 s). */
static int wait_items(sink *s, int count) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 5;
  pthread_mutex_lock(&s->mu);
  while (s->n < count) {
    if (pthread_cond_timedwait(&s->cv, &s->mu, &until)) break;
  }
  int n = s->n;
  pthread_mutex_unlock(&s->mu);
  return n;
}

/* What the scripted server does. */
typedef enum {
  SRV_NORMAL,            /* answers as the reference server does */
  SRV_BAD_PASSWORD,      /* refuses the credentials */
  SRV_SILENT,            /* accepts the connection, never answers */
  SRV_BAD_MAGIC,         /* authenticates, then sends a frame with a bad magic */
  SRV_SILENT_AFTER_AUTH, /* authenticates, then never answers */
  SRV_PINGS_FOR_600MS,   /* authenticates, answers PINGs for 600 ms, then goes quiet */
  SRV_FLOOD,             /* `flood` events in one write, then waits for the close */
  SRV_TOO_DEEP           /* an event, one nested too deeply, an event; then answers the
                            first PING too deeply, the next ones properly */
} srv_mode;

typedef struct {
  int lfd;
  int flood; /* SRV_FLOOD: how many events */
  srv_mode mode;
  int pings;
  int got_disconnect;
} server;

static int read_frame(int fd, uint8_t *type) {
  uint8_t h[12];
  size_t got = 0;
  while (got < 12) {
    ssize_t k = read(fd, h + got, 12 - got);
    if (k <= 0) return -1;
    got += (size_t)k;
  }
  uint32_t len = ((uint32_t)h[8] << 24) | ((uint32_t)h[9] << 16) | ((uint32_t)h[10] << 8) | h[11];
  uint8_t buf[256];
  while (len > 0) {
    ssize_t k = read(fd, buf, len < sizeof(buf) ? len : sizeof(buf));
    if (k <= 0) return -1;
    len -= (uint32_t)k;
  }
  *type = h[5];
  return 0;
}

static void send_hex(int fd, const char *hex, size_t drop_tail) {
  uint8_t b[512];
  size_t n = unhex(hex, b) - drop_tail;
  if (write(fd, b, n) != (ssize_t)n) perror("write");
}

/* Sends a frame whose payload is at buf + 12 (the header is written there). */
static void send_frame(int fd, uint8_t type, uint8_t *buf, size_t payload_len) {
  nx_frame_header(buf, type, (uint32_t)payload_len);
  if (write(fd, buf, 12 + payload_len) != (ssize_t)(12 + payload_len)) perror("write");
}

static size_t nested_payload(uint8_t *out, const char *key, int levels, int maps);

static void *server_main(void *arg) {
  server *sv = arg;
  int fd = accept(sv->lfd, NULL, NULL);
  if (fd < 0) return NULL;
  uint8_t type;
  if (read_frame(fd, &type) == 0 && type == NX_MSG_CONNECT) {
    if (sv->mode == SRV_SILENT) {
      sleep(2);
    } else if (sv->mode == SRV_BAD_PASSWORD) {
      send_hex(fd, BAD_PASSWORD, 0);
    } else {
      send_hex(fd, CONNECT_OK, 0);
      if (sv->mode == SRV_BAD_MAGIC) {
        send_hex(fd, "123456780181000000000000", 0);
      } else if (sv->mode == SRV_SILENT_AFTER_AUTH) {
        sleep(1);
      } else if (sv->mode == SRV_FLOOD) {
        uint8_t ev[256];
        size_t len = unhex(DELETE_EVENT, ev) - 1;
        size_t total = len * (size_t)sv->flood;
        uint8_t *all = malloc(total);
        for (int i = 0; i < sv->flood; i++) memcpy(all + (size_t)i * len, ev, len);
        size_t off = 0;
        while (off < total) {
          ssize_t k = write(fd, all + off, total - off);
          if (k <= 0) break;
          off += (size_t)k;
        }
        free(all);
        while (read_frame(fd, &type) == 0) {
        }
      } else if (sv->mode == SRV_TOO_DEEP) {
        uint8_t deep[512];
        size_t n = nested_payload(deep + 12, "a", NX_MAX_DOC_DEPTH + 1, 0);
        send_hex(fd, DELETE_EVENT, 1);
        send_frame(fd, NX_MSG_CHANGE_EVENT, deep, n);
        send_hex(fd, DELETE_EVENT, 1);
        int pings = 0;
        while (read_frame(fd, &type) == 0) {
          if (type == NX_MSG_PING && pings++ == 0) send_frame(fd, NX_MSG_PONG, deep, n);
          else if (type == NX_MSG_PING) send_hex(fd, PONG, 0);
          if (type == NX_MSG_DISCONNECT) {
            send_hex(fd, GOODBYE, 0);
            break;
          }
        }
      } else if (sv->mode == SRV_PINGS_FOR_600MS) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
          clock_gettime(CLOCK_MONOTONIC, &t1);
          if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 > 600) break;
          if (read_frame(fd, &type) != 0) break;
          if (type == NX_MSG_PING) {
            sv->pings++;
            send_hex(fd, PONG, 0);
          }
        }
      } else {
        /* An event pushed unasked, then answers in order. */
        send_hex(fd, DELETE_EVENT, 1);
        while (read_frame(fd, &type) == 0) {
          if (type == NX_MSG_PING) send_hex(fd, PONG, 0);
          if (type == NX_MSG_DISCONNECT) {
            sv->got_disconnect = 1;
            send_hex(fd, GOODBYE, 0);
            break;
          }
        }
      }
    }
  }
  usleep(100000);
  close(fd);
  return NULL;
}

static int listen_any(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, (struct sockaddr *)&a, sizeof(a));
  listen(fd, 4);
  socklen_t len = sizeof(a);
  getsockname(fd, (struct sockaddr *)&a, &len);
  *port = ntohs(a.sin_port);
  return fd;
}

static sink *sink_new(void) {
  sink *s = calloc(1, sizeof(*s));
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  return s;
}

static void sink_free(sink *s) {
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}

static nx_conn_opts opts_for(uint16_t port) {
  nx_conn_opts o;
  memset(&o, 0, sizeof(o));
  o.host = "localhost"; /* resolves to ::1 first on many hosts: the core tries each address */
  o.port = port;
  o.user = "root";
  o.pass = "nexadb123";
  o.connect_timeout_ms = 1000;
  o.max_frame = 1 << 20;
  o.int64_mode = 3;
  return o;
}

/* A scripted server on a thread of its own, a worker and the sink it
 * delivers to; rig_start returns the options that reach the server. */
typedef struct {
  server sv;
  pthread_t th;
  sink *s;
  nx_worker *w;
} rig;

static nx_conn_opts rig_start(rig *r, srv_mode mode, int flood) {
  uint16_t port;
  memset(r, 0, sizeof(*r));
  r->sv.mode = mode;
  r->sv.flood = flood;
  r->sv.lfd = listen_any(&port);
  pthread_create(&r->th, NULL, server_main, &r->sv);
  r->s = sink_new();
  r->w = nx_worker_new(deliver, r->s);
  return opts_for(port);
}

/* Waits for the server's thread to end, then frees the rest. */
static void rig_stop(rig *r) {
  pthread_join(r->th, NULL);
  nx_worker_free(r->w);
  close(r->sv.lfd);
  sink_free(r->s);
}

static void test_worker_session(void) {
  rig r;
  nx_conn_opts o = rig_start(&r, SRV_NORMAL, 0);
  sink *s = r.s;
  nx_worker *w = r.w;
  CHECK(w != NULL, "worker starts");
  CHECK(nx_worker_open(w, 1, &o) == 0, "open queued");
  /* Sent before the handshake completes: waits for it, answered in order. */
  msgpack_sbuffer sb;
  nx_encode_empty(&sb, NX_MSG_PING);
  nx_worker_send(w, 1, 41, msgpack_sbuffer_release(&sb), 13);
  nx_encode_empty(&sb, NX_MSG_PING);
  nx_worker_send(w, 1, 42, msgpack_sbuffer_release(&sb), 13);
  int n = wait_items(s, 4);
  CHECK(n == 4, "open, event, two replies (got %d)", n);
  if (n >= 4) {
    CHECK(s->items[0].kind == NX_EV_OPEN && s->items[0].conn_id == 1 && s->items[0].int64_mode == 3, "first item is OPEN with the conn's int64 mode");
    CHECK(s->items[1].kind == NX_EV_CHANGE, "then the event");
    uint8_t ev[256];
    unhex(DELETE_EVENT, ev);
    uint32_t payload = (uint32_t)ev[8] << 24 | (uint32_t)ev[9] << 16 | (uint32_t)ev[10] << 8 | ev[11];
    CHECK(s->items[1].req_id == payload, "a change item's req_id is its payload bytes (%u, want %u)", s->items[1].req_id, payload);
    CHECK(s->items[2].kind == NX_EV_REPLY && s->items[2].req_id == 41 && s->items[2].msg_type == NX_MSG_PONG, "reply to 41 first");
    CHECK(s->items[3].kind == NX_EV_REPLY && s->items[3].req_id == 42, "then reply to 42");
  }
  nx_worker_close(w, 1, 1);
  n = wait_items(s, 5);
  CHECK(n == 5 && s->items[4].kind == NX_EV_CLOSED && s->codes[4][0] == 0, "graceful close ends with a clean CLOSED");
  rig_stop(&r);
  CHECK(r.sv.got_disconnect, "the server received DISCONNECT");
}

static void expect_open_failure(srv_mode mode, const char *code, const char *msg_part) {
  rig r;
  nx_conn_opts o = rig_start(&r, mode, 0);
  sink *s = r.s;
  nx_worker *w = r.w;
  if (mode == SRV_SILENT) o.connect_timeout_ms = 200;
  nx_worker_open(w, 9, &o);
  int want = mode == SRV_BAD_MAGIC ? 2 : 1;
  int n = wait_items(s, want);
  nx_item *it = n >= want ? &s->items[want - 1] : NULL;
  CHECK(it && it->kind == (mode == SRV_BAD_MAGIC ? NX_EV_CLOSED : NX_EV_OPEN_FAILED) && strcmp(s->codes[want - 1], code) == 0 &&
            strstr(s->messages[want - 1], msg_part),
        "mode %d fails with %s (got %s: %s)", mode, code, n >= want ? s->codes[want - 1] : "-", n >= want ? s->messages[want - 1] : "-");
  rig_stop(&r);
}

static void test_worker_failures(void) {
  expect_open_failure(SRV_BAD_PASSWORD, "NEXA_AUTH", "Invalid username or password");
  expect_open_failure(SRV_SILENT, "ETIMEDOUT", "200 ms");
  expect_open_failure(SRV_BAD_MAGIC, "NEXA_PROTOCOL", "magic");

  /* A port with nobody listening. */
  uint16_t port;
  int fd = listen_any(&port);
  close(fd);
  sink *s = sink_new();
  nx_worker *w = nx_worker_new(deliver, s);
  nx_conn_opts o = opts_for(port);
  nx_worker_open(w, 2, &o);
  int n = wait_items(s, 1);
  CHECK(n == 1 && s->items[0].kind == NX_EV_OPEN_FAILED && strcmp(s->codes[0], "ECONNREFUSED") == 0, "refused: %s", n ? s->codes[0] : "-");
  /* A name that does not resolve. */
  o.host = "no-such-host.invalid";
  nx_worker_open(w, 3, &o);
  n = wait_items(s, 2);
  CHECK(n == 2 && strcmp(s->codes[1], "ENOTFOUND") == 0, "unresolvable host: %s", n > 1 ? s->codes[1] : "-");
  /* Stopping with a connection mid-connect and commands queued. */
  o.host = "localhost";
  nx_worker_open(w, 4, &o);
  nx_worker_close(w, 99, 1);
  nx_worker_free(w);
  CHECK(1, "worker stops with work pending");
  sink_free(s);
}

/* A well-framed payload that cannot be decoded fails only itself: the
 * event becomes an UNDECODABLE item, the answer a REPLY_FAILED for its
 * request, and the connection reads on. */
static void test_undecodable_payloads(void) {
  rig r;
  nx_conn_opts o = rig_start(&r, SRV_TOO_DEEP, 0);
  sink *s = r.s;
  nx_worker *w = r.w;
  o.hwm_events = 3; /* counting the undecodable event would pause reading before the answers */
  nx_worker_open(w, 1, &o);
  msgpack_sbuffer sb;
  nx_encode_empty(&sb, NX_MSG_PING);
  nx_worker_send(w, 1, 51, msgpack_sbuffer_release(&sb), 13);
  nx_encode_empty(&sb, NX_MSG_PING);
  nx_worker_send(w, 1, 52, msgpack_sbuffer_release(&sb), 13);
  int n = wait_items(s, 6);
  CHECK(n == 6, "open, event, undecodable, event, two replies (got %d)", n);
  if (n >= 6) {
    CHECK(s->items[1].kind == NX_EV_CHANGE && s->items[3].kind == NX_EV_CHANGE, "the good events arrive");
    CHECK(s->items[2].kind == NX_EV_UNDECODABLE && s->items[2].conn_id == 1 && strcmp(s->codes[2], "NEXA_PROTOCOL") == 0 &&
              strstr(s->messages[2], "could not decode a change event (") &&
              strstr(s->messages[2], "a document nested more than 100 levels deep"),
          "the deep one in between is reported: %s", s->messages[2]);
    CHECK(s->items[4].kind == NX_EV_REPLY_FAILED && s->items[4].req_id == 51 && strstr(s->messages[4], "could not decode the answer") &&
              strstr(s->messages[4], "deep"),
          "the deep answer fails its request: %s", s->messages[4]);
    CHECK(s->items[5].kind == NX_EV_REPLY && s->items[5].req_id == 52 && s->items[5].msg_type == NX_MSG_PONG,
          "the next request is answered on the same connection");
    CHECK(s->changes == 2, "two change events counted (%d)", s->changes);
  }
  nx_worker_close(w, 1, 1);
  n = wait_items(s, 7);
  CHECK(n == 7 && s->items[6].kind == NX_EV_CLOSED && s->codes[6][0] == 0, "then a clean graceful close (%s)", n == 7 ? s->codes[6] : "-");
  rig_stop(&r);
}

/* Hardening (issue 5): cases the fuzzers found or guard. */
static void test_check_empty_container_depth(void) {
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

static void test_keepalive(void) {
  for (srv_mode mode = SRV_SILENT_AFTER_AUTH; mode <= SRV_PINGS_FOR_600MS; mode++) {
    rig r;
    nx_conn_opts o = rig_start(&r, mode, 0);
    sink *s = r.s;
    o.keepalive_ms = 100;
    o.keepalive_timeout_ms = 100;
    nx_worker_open(r.w, 5, &o);
    if (mode == SRV_SILENT_AFTER_AUTH) {
      int n = wait_items(s, 2);
      CHECK(n == 2 && s->items[1].kind == NX_EV_CLOSED && strcmp(s->codes[1], "ETIMEDOUT") == 0 && strstr(s->messages[1], "keepalive"),
            "a silent server is found dead by keepalive (%s: %s)", n > 1 ? s->codes[1] : "-", n > 1 ? s->messages[1] : "-");
    } else {
      usleep(450000);
      int n = wait_items(s, 1);
      CHECK(n == 1 && s->items[0].kind == NX_EV_OPEN, "a server that answers PINGs stays open (%d items)", n);
      CHECK(r.sv.pings >= 2, "an idle connection is PINGed (%d)", r.sv.pings);
    }
    rig_stop(&r);
  }
}

static int changes_now(sink *s) {
  pthread_mutex_lock(&s->mu);
  int n = s->changes;
  pthread_mutex_unlock(&s->mu);
  return n;
}

/* Waits until no change event has arrived for 150 ms (or 5 s); returns the count. */
static int changes_settled(sink *s) {
  int last = -1;
  for (int i = 0; i < 33; i++) {
    int n = changes_now(s);
    if (n == last) return n;
    last = n;
    usleep(150000);
  }
  return last;
}

/* Whether exactly these many pauses and resumes were reported, in turn. */
static int flow_now(sink *s, int pauses, int resumes) {
  pthread_mutex_lock(&s->mu);
  int ok = s->pauses == pauses && s->resumes == resumes && s->flow_out_of_turn == 0;
  pthread_mutex_unlock(&s->mu);
  return ok;
}

/* One read (64 KiB) of the 100-byte event: how far past a bound one read may go. */
#define EVENTS_PER_READ (65536 / 100 + 1)

/* The payload of DELETE_EVENT (what the byte bound counts). */
#define DELETE_PAYLOAD 101

/* A flood of 2,000 events into a connection bounded at `bound` events
 * (hwm_events, or hwm_bytes worth that many): stops at the bound, stays
 * paused until a quarter of it (rounded up) is acknowledged, then resumes. */
static void check_bound(uint32_t id, const char *what, uint32_t hwm_events, size_t hwm_bytes, int bound) {
  enum { FLOOD = 2000 };
  int keep = bound - (bound + 3) / 4; /* reading resumes at this many unacknowledged */
  rig r;
  nx_conn_opts o = rig_start(&r, SRV_FLOOD, FLOOD);
  sink *s = r.s;
  nx_worker *w = r.w;
  o.hwm_events = hwm_events;
  o.hwm_bytes = hwm_bytes;
  nx_worker_open(w, id, &o);
  int n = changes_settled(s);
  CHECK(n >= bound && n <= bound + EVENTS_PER_READ, "%s: reading stops at the bound, one read past it at most (%d)", what, n);
  CHECK(flow_now(s, 1, 0), "%s: the pause is reported (%d paused, %d resumed)", what, s->pauses, s->resumes);
  nx_worker_ack(w, id, (uint32_t)(n - keep - 1)); /* one more than `keep` left */
  int m = changes_settled(s);
  CHECK(m == n, "%s: still paused with %d unacknowledged (%d, then %d)", what, keep + 1, n, m);
  CHECK(flow_now(s, 1, 0), "%s: no resume is reported yet (%d paused, %d resumed)", what, s->pauses, s->resumes);
  nx_worker_ack(w, id, 1);
  m = changes_settled(s);
  CHECK(m > n && m - n <= bound - keep + EVENTS_PER_READ, "%s: resumes at %d unacknowledged, and stops again at the bound (%d, then %d)",
        what, keep, n, m);
  CHECK(flow_now(s, 2, 1), "%s: the resume and the next pause are reported (%d paused, %d resumed)", what, s->pauses, s->resumes);
  for (int i = 0; i < 40 && m < FLOOD; i++) {
    nx_worker_ack(w, id, (uint32_t)FLOOD);
    m = changes_settled(s);
  }
  CHECK(m == FLOOD, "%s: acknowledging everything lets the whole burst through (%d)", what, m);
  pthread_mutex_lock(&s->mu);
  CHECK(s->flow_out_of_turn == 0 && s->resumes >= s->pauses - 1 && s->resumes >= 2,
        "%s: pauses and resumes are reported in turn (%d paused, %d resumed)", what, s->pauses, s->resumes);
  pthread_mutex_unlock(&s->mu);
  nx_worker_close(w, id, 0);
  rig_stop(&r);
}

static void test_backpressure(void) {
  /* Unbounded: an 8,000-event burst is handed over a read or two at a time, never held
   * back for the whole loop turn (the main thread works while the worker reads). */
  {
    enum { FLOOD = 8000 };
    rig r;
    nx_conn_opts o = rig_start(&r, SRV_FLOOD, FLOOD);
    sink *s = r.s;
    nx_worker_open(r.w, 7, &o);
    int n = changes_settled(s);
    CHECK(n == FLOOD, "unbounded: every event of the burst arrives (%d)", n);
    CHECK(flow_now(s, 0, 0), "unbounded: never paused (%d paused)", s->pauses);
    CHECK(s->max_batch_changes <= 448 + EVENTS_PER_READ,
          "a batch is handed over after the read that filled it (largest %d events, %d batches)",
          s->max_batch_changes, s->batches_with_changes);
    nx_worker_close(r.w, 7, 0);
    rig_stop(&r);
  }
  /* Bounded: reading stops at the bound and resumes once a quarter of it
   * (rounded up) is acknowledged, not before; by events or by bytes. */
  check_bound(8, "highWaterMark 400", 400, 0, 400);
  check_bound(9, "highWaterMark 3", 3, 0, 3);
  check_bound(10, "highWaterMarkBytes 400 events' worth", 0, 400 * DELETE_PAYLOAD, 400);
}

/* The tape's string segments: cut at event starts; small events share one
 * until it holds NX_TAPE_SEG bytes; a large event has its own. */
static void test_tape_segments(void) {
  nx_tape_tables *tables = nx_tape_tables_new();
  nx_tape tape;
  memset(&tape, 0, sizeof(tape));
  static const size_t lens[] = {300, 300, 300, 300, 300, 300, 300, 300, 300, 300,
                                300, 300, 300, 300, 300, 300, 300, 300, 300, 300, 5000,
                                20, 20, 20, 20, 20, 20, 20, 20, 20, 20};
  enum { N = sizeof(lens) / sizeof(lens[0]) };
  size_t seg_of[N], from[N];
  char *text = malloc(5000);
  memset(text, 'a', 5000);
  int ok = tables != NULL;
  for (size_t i = 0; ok && i < N; i++) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "s", 1);
    text[0] = (char)('A' + i % 26); /* no two alike: never interned */
    msgpack_pack_str_with_body(&pk, text, lens[i]);
    msgpack_zone z;
    msgpack_zone_init(&z, 1024);
    msgpack_object o;
    char err[160];
    from[i] = tape.nstr;
    ok = nx_decode(&z, (const uint8_t *)sb.data, sb.size, NX_CHECK_MAP, &o, err, sizeof(err)) == 0 &&
         nx_tape_event(tables, &tape, &o, sb.size) == 0;
    seg_of[i] = tape.nsegs;
    msgpack_zone_destroy(&z);
    msgpack_sbuffer_destroy(&sb);
  }
  CHECK(ok, "31 events onto the tape");
  if (ok) {
    int within = 1, bounded = 1;
    for (size_t i = 0; i < N; i++) {
      size_t begin = seg_of[i] ? tape.segs[seg_of[i] - 1] : 0;
      if (from[i] < begin) within = 0; /* began in an earlier segment */
      size_t end = seg_of[i] < tape.nsegs ? tape.segs[seg_of[i]] : tape.nstr;
      int alone = (i == 0 || seg_of[i - 1] != seg_of[i]) && (i + 1 == N || seg_of[i + 1] != seg_of[i]);
      if (end - begin >= 2 * NX_TAPE_SEG && !alone) bounded = 0;
    }
    CHECK(within, "no event's strings straddle two segments");
    CHECK(bounded, "a segment holds under 2 * NX_TAPE_SEG bytes, unless one event alone needs more");
    CHECK(seg_of[20] != seg_of[19] && seg_of[20] != seg_of[21], "the 5,000-byte event has a segment of its own");
    CHECK(seg_of[13] == 0 && seg_of[14] == 1 && seg_of[19] == 1,
          "300-byte events share a segment until it holds 4 KiB: 14, then 6 (%zu, %zu, %zu)", seg_of[13], seg_of[14], seg_of[19]);
    CHECK(tape.nsegs + 1 == 4, "14 + 6 events of 300 bytes, the large one, the ten small ones: 4 segments (%zu)", tape.nsegs + 1);
    size_t segs = 0;
    for (size_t i = 0; i < tape.nops; i++) segs += tape.ops[i] == NX_T_SEG; /* no other op or operand is 23 here */
    CHECK(segs == tape.nsegs, "one NX_T_SEG op per segment after the first (%zu ops, %zu segments)", segs, tape.nsegs);
    nx_tape_reset(&tape);
    CHECK(tape.nsegs == 0 && tape.nstr == 0 && tape.nops == 0 && tape.events == 0, "reset empties the tape");
  }
  free(text);
  nx_tape_free(&tape);
  nx_tape_tables_free(tables);
}

int main(void) {
  test_reader_chunkings();
  test_reader_errors();
  test_check();
  test_decode_encode();
  test_worker_session();
  test_worker_failures();
  test_keepalive();
  test_check_empty_container_depth();
  test_document_depth();
  test_decoder_matches_msgpack_c();
  test_undecodable_payloads();
  test_backpressure();
  test_tape_segments();
  printf("C core: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
