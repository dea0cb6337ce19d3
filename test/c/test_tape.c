/* The event tape: its string segments, and what a map's keys need announced first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "harness.h"
#include "intern.h"
#include "tape.h"
#include "tests.h"

/* The payload packed in sb onto the tape, as the worker puts it (ingest.c):
 * readable slack after it, checked, then written. 0 on success. */
static int onto_tape(nx_tape_tables *tables, nx_tape *tape, msgpack_sbuffer *sb) {
  size_t len = sb->size;
  static const char slack[NX_DECODE_SLACK];
  msgpack_sbuffer_write(sb, slack, sizeof(slack));
  char err[160];
  if (nx_check_padded((const uint8_t *)sb->data, len, NX_CHECK_MAP, 0, err, sizeof(err))) return -1;
  return nx_tape_append(tables, tape, (const uint8_t *)sb->data, len, NX_TAPE_EVENT);
}

/* The tape's string segments: cut at event starts; small events share one
 * until it holds NX_TAPE_SEG bytes; a large event has its own. */
void test_tape_segments(void) {
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
    from[i] = tape.nstr;
    ok = onto_tape(tables, &tape, &sb) == 0;
    seg_of[i] = tape.nsegs;
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
    CHECK(tape.nsegs == 0 && tape.nstr == 0 && tape.nops == 0 && tape.values == 0, "reset empties the tape");
  }
  free(text);
  nx_tape_free(&tape);
  nx_tape_tables_free(tables);
}

/* A map too wide for a shape (70 keys) goes on the tape with its keys; the
 * new ones are announced before the map, never between its pairs, where the
 * JS reader (lib/tape.js mapk) takes only a KEY or a string. */
void test_tape_wide_map(void) {
  enum { N = 70 };
  nx_tape_tables *tables = nx_tape_tables_new();
  nx_tape tape;
  memset(&tape, 0, sizeof(tape));
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, N);
  for (int i = 0; i < N; i++) {
    char key[8];
    int n = snprintf(key, sizeof(key), "w%d", i);
    msgpack_pack_str_with_body(&pk, key, (size_t)n);
    msgpack_pack_int(&pk, i);
  }
  int ok = tables && onto_tape(tables, &tape, &sb) == 0;
  CHECK(ok, "a map of %d keys onto the tape", N);
  if (ok) {
    int announced = 1, pairs = 1;
    for (int i = 0; i < N; i++)
      if (tape.ops[4 * i] != NX_T_NEWKEY || tape.ops[4 * i + 1] != i) announced = 0;
    const int32_t *m = tape.ops + 4 * N;
    CHECK(announced, "the %d keys are announced first, in order", N);
    CHECK(m[0] == NX_T_MAPK && m[1] == N, "then the map, with its keys (MAPK %d): %d %d", N, m[0], m[1]);
    for (int i = 0; i < N; i++)
      if (m[2 + 3 * i] != NX_T_KEY || m[3 + 3 * i] != i || m[4 + 3 * i] != NX_T_NUM) pairs = 0;
    CHECK(pairs, "each pair is KEY id, then its value; nothing between pairs");
    CHECK(tape.nops == (size_t)(4 * N + 2 + 3 * N), "and nothing after (%zu ops)", tape.nops);
  }
  msgpack_sbuffer_destroy(&sb);
  nx_tape_free(&tape);
  nx_tape_tables_free(tables);
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
      rc = nx_check_padded(p, sb->size, NX_CHECK_MAP, 0, err, sizeof(err));
      if (rc == 0) rc = nx_tape_append(tables, tape, p, sb->size, NX_TAPE_EVENT);
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
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 1);
  msgpack_pack_str_with_body(&pk, "documents", 9);
  msgpack_pack_array(&pk, DOCS);
  for (int i = 0; i < DOCS; i++) {
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "s", 1);
    msgpack_pack_str_with_body(&pk, "short", 5); /* a value an event would intern */
    msgpack_pack_str_with_body(&pk, "long", 4);
    text[0] = (char)('A' + i % 26);
    msgpack_pack_str_with_body(&pk, text, sizeof(text));
  }
  static const char slack[NX_DECODE_SLACK];
  size_t len = sb.size;
  msgpack_sbuffer_write(&sb, slack, sizeof(slack));
  nx_tape_tables *tables = nx_tape_tables_new();
  nx_tape tape;
  memset(&tape, 0, sizeof(tape));
  char err[160];
  int ok = tables && nx_check_padded((const uint8_t *)sb.data, len, NX_CHECK_MAP, 0, err, sizeof(err)) == 0 &&
           nx_tape_append(tables, &tape, (const uint8_t *)sb.data, len, NX_TAPE_ANSWER) == 0;
  CHECK(ok, "an answer of %d documents onto the tape", DOCS);
  if (ok) {
    CHECK(tables->vals.n == 0, "no value interned (%u)", tables->vals.n);
    CHECK(tables->keys.n == 3 && tables->nshapes == 2, "its keys and shapes are (%u keys, %u shapes)", tables->keys.n, tables->nshapes);
    size_t strings = (size_t)DOCS * (5 + sizeof(text));
    CHECK(tape.nsegs >= strings / (NX_TAPE_SEG + sizeof(text)) && tape.nsegs <= strings / NX_TAPE_SEG,
          "%zu segments for %zu bytes of strings", tape.nsegs + 1, strings);
    int bounded = 1;
    for (size_t k = 0; k <= tape.nsegs; k++) {
      size_t from = k ? tape.segs[k - 1] : 0, to = k < tape.nsegs ? tape.segs[k] : tape.nstr;
      if (to - from >= NX_TAPE_SEG + sizeof(text)) bounded = 0;
    }
    CHECK(bounded, "no segment holds more than NX_TAPE_SEG bytes and one string");
    CHECK(tape.values == 1, "one value on the tape (%u)", tape.values);
  }
  /* The same short value in an event is interned. */
  msgpack_sbuffer ev;
  msgpack_sbuffer_init(&ev);
  msgpack_packer_init(&pk, &ev, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 1);
  msgpack_pack_str_with_body(&pk, "s", 1);
  msgpack_pack_str_with_body(&pk, "short", 5);
  CHECK(ok && onto_tape(tables, &tape, &ev) == 0 && tables->vals.n == 1 && tape.values == 2, "an event's short value is interned");
  msgpack_sbuffer_destroy(&ev);
  msgpack_sbuffer_destroy(&sb);
  nx_tape_free(&tape);
  nx_tape_tables_free(tables);
}
