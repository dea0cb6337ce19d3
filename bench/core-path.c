/* The worker thread's per-event work, without sockets: frame reader,
 * payload check, tape. Count instructions with
 *   valgrind --tool=callgrind build/core-path FRAME_FILE 20000
 * (deterministic: the figure to compare changes by), or time it natively:
 *   build/core-path FRAME_FILE 2000000
 * FRAME_FILE holds one whole frame; `node bench/core-path.js` builds and runs it. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "frame.h"
#include "tape.h"

typedef struct {
  nx_tape tape;
  nx_tape_tables *tables;
  unsigned long events, in_batch;
} ctx;

static int on_frame(void *ud, uint8_t type, uint16_t flags, const uint8_t *p, size_t len) {
  ctx *c = ud;
  char err[128];
  (void)type; (void)flags;
  /* As the worker does (ingest.c): checked where the frame reader left it, then onto the tape. */
  size_t elements;
  if (nx_check_padded(p, len, NX_CHECK_MAP, 0, &elements, err, sizeof(err)) ||
      nx_tape_append(c->tables, &c->tape, p, len, elements, NX_TAPE_EVENT)) {
    fprintf(stderr, "failed: %s\n", err);
    exit(1);
  }
  c->events++;
  if (++c->in_batch == 448) { /* a batch handed over, recycled */
    nx_tape_reset(&c->tape);
    c->in_batch = 0;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  static uint8_t frame[1 << 20];
  size_t flen = fread(frame, 1, sizeof(frame), f);
  fclose(f);
  long n = atol(argv[2]);
  /* 64 KiB of back-to-back frames, as a socket read delivers them. */
  size_t per = 65536 / flen;
  uint8_t *chunk = calloc(1, per * flen + NX_FRAME_SLACK); /* the read buffer's slack (ingest.c) */
  for (size_t i = 0; i < per; i++) memcpy(chunk + i * flen, frame, flen);
  ctx c = {0};
  c.tables = nx_tape_tables_new();
  nx_reader r;
  nx_reader_init(&r, 1 << 26);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while ((long)c.events < n) nx_reader_feed(&r, chunk, per * flen, on_frame, &c);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("%lu events of %zu bytes: %.3f us/event on the worker path\n", c.events, flen, secs * 1e6 / (double)c.events);
  nx_reader_free(&r);
  nx_tape_free(&c.tape);
  nx_tape_tables_free(c.tables);
  free(chunk);
  return 0;
}
