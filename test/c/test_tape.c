/* The tape: its string segments, what a map's keys need announced first, and answers on it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "fixtures.h"
#include "harness.h"
#include "intern.h"
#include "tape.h"
#include "tests.h"

/* The tape's string segments: cut at event starts; small events share one
 * until it holds NX_TAPE_SEG bytes; a large event has its own. */
void test_tape_segments(void) {
  tape_rig r;
  tape_rig_init(&r);
  nx_tape *tp = &r.tape;
  static const size_t lens[] = {300, 300, 300, 300, 300, 300, 300, 300, 300, 300,
                                300, 300, 300, 300, 300, 300, 300, 300, 300, 300, 5000,
                                20, 20, 20, 20, 20, 20, 20, 20, 20, 20};
  enum { N = sizeof(lens) / sizeof(lens[0]) };
  size_t seg_of[N], from[N];
  char *text = malloc(5000);
  memset(text, 'a', 5000);
  int ok = r.tables != NULL;
  for (size_t i = 0; ok && i < N; i++) {
    msgpack_pack_map(&r.pk, 1);
    msgpack_pack_str_with_body(&r.pk, "s", 1);
    text[0] = (char)('A' + i % 26); /* no two alike: never interned */
    msgpack_pack_str_with_body(&r.pk, text, lens[i]);
    from[i] = tp->nstr;
    ok = tape_rig_append(&r, NX_TAPE_EVENT, NULL) == 0;
    seg_of[i] = tp->nsegs;
  }
  CHECK(ok, "31 events onto the tape");
  if (ok) {
    int within = 1, bounded = 1;
    for (size_t i = 0; i < N; i++) {
      size_t begin = seg_of[i] ? tp->segs[seg_of[i] - 1] : 0;
      if (from[i] < begin) within = 0; /* began in an earlier segment */
      size_t end = seg_of[i] < tp->nsegs ? tp->segs[seg_of[i]] : tp->nstr;
      int alone = (i == 0 || seg_of[i - 1] != seg_of[i]) && (i + 1 == N || seg_of[i + 1] != seg_of[i]);
      if (end - begin >= 2 * NX_TAPE_SEG && !alone) bounded = 0;
    }
    CHECK(within, "no event's strings straddle two segments");
    CHECK(bounded, "a segment holds under 2 * NX_TAPE_SEG bytes, unless one event alone needs more");
    CHECK(seg_of[20] != seg_of[19] && seg_of[20] != seg_of[21], "the 5,000-byte event has a segment of its own");
    CHECK(seg_of[13] == 0 && seg_of[14] == 1 && seg_of[19] == 1,
          "300-byte events share a segment until it holds 4 KiB: 14, then 6 (%zu, %zu, %zu)", seg_of[13], seg_of[14], seg_of[19]);
    CHECK(tp->nsegs + 1 == 4, "14 + 6 events of 300 bytes, the large one, the ten small ones: 4 segments (%zu)", tp->nsegs + 1);
    size_t segs = 0;
    for (size_t i = 0; i < tp->nops; i++) segs += tp->ops[i] == NX_T_SEG; /* no other op or operand is 23 here */
    CHECK(segs == tp->nsegs, "one NX_T_SEG op per segment after the first (%zu ops, %zu segments)", segs, tp->nsegs);
    nx_tape_reset(tp);
    CHECK(tp->nsegs == 0 && tp->nstr == 0 && tp->nops == 0 && tp->values == 0, "reset empties the tape");
  }
  free(text);
  tape_rig_free(&r);
}

/* A map too wide for a shape (70 keys) goes on the tape with its keys; the
 * new ones are announced before the map, never between its pairs, where the
 * JS reader (lib/tape.js mapk) takes only a KEY or a string. */
void test_tape_wide_map(void) {
  enum { N = 70 };
  tape_rig r;
  tape_rig_init(&r);
  msgpack_pack_map(&r.pk, N);
  for (int i = 0; i < N; i++) {
    char key[8];
    int n = snprintf(key, sizeof(key), "w%d", i);
    msgpack_pack_str_with_body(&r.pk, key, (size_t)n);
    msgpack_pack_int(&r.pk, i);
  }
  int ok = tape_rig_append(&r, NX_TAPE_EVENT, NULL) == 0;
  CHECK(ok, "a map of %d keys onto the tape", N);
  if (ok) {
    const int32_t *ops = r.tape.ops;
    int announced = 1, pairs = 1;
    for (int i = 0; i < N; i++)
      if (ops[4 * i] != NX_T_NEWKEY || ops[4 * i + 1] != i) announced = 0;
    const int32_t *m = ops + 4 * N;
    CHECK(announced, "the %d keys are announced first, in order", N);
    CHECK(m[0] == NX_T_MAPK && m[1] == N, "then the map, with its keys (MAPK %d): %d %d", N, m[0], m[1]);
    for (int i = 0; i < N; i++)
      if (m[2 + 3 * i] != NX_T_KEY || m[3 + 3 * i] != i || m[4 + 3 * i] != NX_T_NUM) pairs = 0;
    CHECK(pairs, "each pair is KEY id, then its value; nothing between pairs");
    CHECK(r.tape.nops == (size_t)(4 * N + 2 + 3 * N), "and nothing after (%zu ops)", r.tape.nops);
  }
  tape_rig_free(&r);
}

/* The event packed in sb, twice onto a fresh tape, from a copy followed by
 * NX_DECODE_SLACK bytes of `fill`: the frame reader hands events over in
 * place, followed by whatever its buffer holds. *vals: the values interned.
 * 0 on success. */
static int twice_with_slack(msgpack_sbuffer *sb, uint8_t fill, nx_tape *tape, uint32_t *vals) {
  uint8_t *p = malloc(sb->size + NX_DECODE_SLACK);
  nx_tape_tables *tables = nx_tape_tables_new();
  char err[160];
  int rc = -1;
  if (p && tables) {
    memcpy(p, sb->data, sb->size);
    memset(p + sb->size, fill, NX_DECODE_SLACK);
    rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
      size_t elements;
      rc = nx_check_padded(p, sb->size, NX_CHECK_MAP, 0, &elements, err, sizeof(err));
      if (rc == 0) rc = nx_tape_append(tables, tape, p, sb->size, elements, NX_TAPE_EVENT);
    }
    *vals = tables->vals.n;
  }
  free(p);
  nx_tape_tables_free(tables);
  return rc;
}

/* Whatever follows an event's bytes, its tape is the same: keys, values and
 * a nested map's keys of every length from 0 to 20 bytes, and a short value
 * met before as the payload's last bytes (the check and the tape load short
 * strings 8 bytes at a time, past their end). */
void test_tape_any_slack(void) {
  static const char text[] = "abcdefghijklmnopqrstu";
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 22);
  for (size_t n = 0; n <= 20; n++) {
    msgpack_pack_str_with_body(&pk, text, n);      /* a key of n bytes */
    msgpack_pack_str_with_body(&pk, text + 1, n);  /* a value of n bytes (short ones interned) */
  }
  msgpack_pack_str_with_body(&pk, "nested", 6);
  msgpack_pack_map(&pk, 22);
  for (size_t n = 0; n <= 20; n++) {
    msgpack_pack_str_with_body(&pk, text + 20 - n, n);
    msgpack_pack_str_with_body(&pk, text, 20 - n);
  }
  msgpack_pack_str_with_body(&pk, "end", 3);
  msgpack_pack_str_with_body(&pk, text, 3); /* a value met before, now the payload's last bytes */
  nx_tape zeros, ones;
  memset(&zeros, 0, sizeof(zeros));
  memset(&ones, 0, sizeof(ones));
  uint32_t vals_zeros = 0, vals_ones = 0;
  int ok = twice_with_slack(&sb, 0x00, &zeros, &vals_zeros) == 0 && twice_with_slack(&sb, 0xff, &ones, &vals_ones) == 0;
  CHECK(ok, "an event onto the tape twice, followed by zeros and by 0xff bytes");
  /* Values of up to NX_TAPE_MAX_VAL bytes: "" and 12 more of each map's. */
  CHECK(vals_zeros == 25 && vals_ones == 25, "each short value interned once, the last one too (%u and %u values)", vals_zeros, vals_ones);
  if (ok) {
    int same = zeros.nops == ones.nops && zeros.nstr == ones.nstr && zeros.nnums == ones.nnums &&
               memcmp(zeros.ops, ones.ops, zeros.nops * sizeof(*zeros.ops)) == 0 &&
               memcmp(zeros.str, ones.str, zeros.nstr) == 0;
    CHECK(same, "the same tape either way (%zu and %zu ops)", zeros.nops, ones.nops);
  }
  msgpack_sbuffer_destroy(&sb);
  nx_tape_free(&zeros);
  nx_tape_free(&ones);
}

/* An answer on the tape: its short values are not interned (a query's
 * documents would fill the table events use), its keys and shapes are; and
 * its strings begin a new segment once one holds NX_TAPE_SEG bytes, so a
 * document kept from a large answer keeps only its segment's text. */
void test_tape_answer(void) {
  enum { DOCS = 40 };
  static char text[300];
  memset(text, 't', sizeof(text));
  tape_rig r;
  tape_rig_init(&r);
  msgpack_pack_map(&r.pk, 1);
  msgpack_pack_str_with_body(&r.pk, "documents", 9);
  msgpack_pack_array(&r.pk, DOCS);
  for (int i = 0; i < DOCS; i++) {
    msgpack_pack_map(&r.pk, 2);
    msgpack_pack_str_with_body(&r.pk, "s", 1);
    msgpack_pack_str_with_body(&r.pk, "short", 5); /* a value an event would intern */
    msgpack_pack_str_with_body(&r.pk, "long", 4);
    text[0] = (char)('A' + i % 26);
    msgpack_pack_str_with_body(&r.pk, text, sizeof(text));
  }
  size_t elements = 0;
  int ok = tape_rig_append(&r, NX_TAPE_ANSWER, &elements) == 0;
  CHECK(elements == 1 + 2 + DOCS * 5, "the check counts the answer's values and keys: %zu", elements);
  CHECK(ok, "an answer of %d documents onto the tape", DOCS);
  const nx_tape *tp = &r.tape;
  if (ok) {
    CHECK(r.tables->vals.n == 0, "no value interned (%u)", r.tables->vals.n);
    CHECK(r.tables->keys.n == 3 && r.tables->nshapes == 2, "its keys and shapes are (%u keys, %u shapes)", r.tables->keys.n,
          r.tables->nshapes);
    size_t strings = (size_t)DOCS * (5 + sizeof(text));
    CHECK(tp->nsegs >= strings / (NX_TAPE_SEG + sizeof(text)) && tp->nsegs <= strings / NX_TAPE_SEG,
          "%zu segments for %zu bytes of strings", tp->nsegs + 1, strings);
    int bounded = 1;
    for (size_t k = 0; k <= tp->nsegs; k++) {
      size_t from = k ? tp->segs[k - 1] : 0, to = k < tp->nsegs ? tp->segs[k] : tp->nstr;
      if (to - from >= NX_TAPE_SEG + sizeof(text)) bounded = 0;
    }
    CHECK(bounded, "no segment holds more than NX_TAPE_SEG bytes and one string");
    CHECK(tp->values == 1, "one value on the tape (%u)", tp->values);
  }
  /* The same short value in an event is interned. */
  msgpack_pack_map(&r.pk, 1);
  msgpack_pack_str_with_body(&r.pk, "s", 1);
  msgpack_pack_str_with_body(&r.pk, "short", 5);
  CHECK(ok && tape_rig_append(&r, NX_TAPE_EVENT, NULL) == 0 && r.tables->vals.n == 1 && tp->values == 2, "an event's short value is interned");
  tape_rig_free(&r);
}
