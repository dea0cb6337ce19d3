/* A connection ends with its terminal item even when memory runs out: that
 * item is what settles its requests and ends its stream on the owner's side.
 * Two seams, neither compiled into the core: the worker makes its batches
 * through the callback it gave ingest.c (w->in.fresh), which these tests wrap
 * so that no batch can be had; and the test build links the core's realloc
 * calls to __wrap_realloc (-Wl,--wrap=realloc), which fails them on demand. */
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "conn.h"
#include "fixtures.h"
#include "harness.h"
#include "internal.h"
#include "scripted_server.h"
#include "tests.h"

static atomic_int no_batches; /* 1: the worker gets no memory for a batch */
static nx_batch *(*worker_fresh)(void *ud);

static nx_batch *fresh_unless_out_of_memory(void *ud) {
  return atomic_load(&no_batches) ? NULL : worker_fresh(ud);
}

/* Before the worker's first command: the command queue's mutex orders this
 * write before the worker thread's first read of it. */
static void wrap_fresh(nx_worker *w) {
  worker_fresh = w->in.fresh;
  w->in.fresh = fresh_unless_out_of_memory;
}

/* An open connection whose answer arrives with no memory for a batch: the
 * answer is lost (ENOMEM), the CLOSED item that fails its request is not. */
static void test_closed_without_memory(void) {
  rig r;
  nx_conn_opts o = rig_start(&r, SRV_NORMAL, 0);
  wrap_fresh(r.w);
  nx_worker_open(r.w, 1, &o);
  int n = wait_items(r.s, 2);
  CHECK(n == 2 && r.s->items[0].kind == NX_EV_OPEN, "open, and the server's first event (%d items)", n);
  atomic_store(&no_batches, 1);
  msgpack_sbuffer sb;
  nx_encode_empty(&sb, NX_MSG_PING);
  size_t len = sb.size;
  nx_worker_send(r.w, 1, 61, msgpack_sbuffer_release(&sb), len);
  n = wait_items(r.s, 3);
  CHECK(n == 3 && r.s->items[2].kind == NX_EV_CLOSED && r.s->items[2].conn_id == 1 && strcmp(r.s->codes[2], "ENOMEM") == 0 &&
            strcmp(r.s->messages[2], "out of memory") == 0,
        "out of memory for the answer: the connection still ends, CLOSED ENOMEM (%d items, %s)", n, n == 3 ? r.s->codes[2] : "-");
  atomic_store(&no_batches, 0);
  rig_stop(&r);
}

/* Connections that fail to open while no batch can be had: each one's
 * OPEN_FAILED arrives, several in one loop turn too; then, with memory
 * again, the worker goes on as before. */
static void test_open_failed_without_memory(void) {
  uint16_t port;
  close(listen_any(&port));
  sink *s = sink_new();
  nx_worker *w = nx_worker_new(deliver, s);
  wrap_fresh(w);
  atomic_store(&no_batches, 1);
  nx_conn_opts o = opts_for(port);
  nx_worker_open(w, 2, &o);
  nx_worker_open(w, 3, &o);
  int n = wait_items(s, 2);
  CHECK(n == 2 && s->items[0].kind == NX_EV_OPEN_FAILED && s->items[1].kind == NX_EV_OPEN_FAILED &&
            s->items[0].conn_id + s->items[1].conn_id == 5 && strcmp(s->codes[0], "ECONNREFUSED") == 0 &&
            strcmp(s->codes[1], "ECONNREFUSED") == 0,
        "both refused connections end with OPEN_FAILED ECONNREFUSED (%d items)", n);
  atomic_store(&no_batches, 0);
  nx_worker_open(w, 4, &o);
  n = wait_items(s, 3);
  CHECK(n == 3 && s->items[2].kind == NX_EV_OPEN_FAILED && s->items[2].conn_id == 4, "with memory again, batches as before (%d items)", n);
  nx_worker_free(w);
  sink_free(s);
}

static atomic_int realloc_fails; /* 1: the core's reallocs fail (set on the test's own thread) */

void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n) {
  return atomic_load(&realloc_fails) ? NULL : __real_realloc(p, n);
}

/* An ingest of the test's own: empty batches on demand, full ones kept in order. */
typedef struct {
  nx_ingest in;
  nx_batch *handed[4];
  int n;
} kept_batches;

static nx_batch *fresh_batch(void *ud) {
  (void)ud;
  nx_batch *b = calloc(1, sizeof(*b));
  if (b && !msgpack_zone_init(&b->zone, 4096)) {
    free(b);
    return NULL;
  }
  return b;
}

static void keep_full(void *ud) {
  kept_batches *k = ud;
  nx_batch *b = nx__ingest_take(&k->in);
  if (k->n < 4) k->handed[k->n++] = b;
  else nx_batch_free(b);
}

/* The batch being filled is full and cannot grow when a connection ends:
 * that batch goes over first, whole, then the terminal item alone. */
static void test_end_when_the_batch_cannot_grow(void) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  kept_batches k = { .n = 0 };
  nx__ingest_init(&k.in, fresh_batch, keep_full, &k);
  uint16_t port;
  close(listen_any(&port));
  nx_conn_opts o = opts_for(port);
  nx_conn *c = nx__conn_new(&loop, &k.in, 7, &o);
  nx_conn *list = NULL;
  nx__conn_dial(c, &list, NULL);
  nx__batch_add(&k.in, 9, NX_EV_CHANGE); /* another connection's events fill the batch */
  while (k.in.batch->n < k.in.batch->cap) nx__batch_add(&k.in, 9, NX_EV_CHANGE);
  size_t cap = k.in.batch->cap;
  atomic_store(&realloc_fails, 1);
  nx__conn_end_with(c, "ENOMEM", "out of memory", NULL);
  atomic_store(&realloc_fails, 0);
  CHECK(k.n == 2 && k.handed[0]->n == cap && k.handed[0]->items[cap - 1].conn_id == 9,
        "the full batch is handed over first, with its %zu items (%d batches)", cap, k.n);
  const nx_item *end = k.n == 2 ? &k.handed[1]->items[0] : NULL;
  CHECK(end && k.handed[1]->n == 1 && end->kind == NX_EV_OPEN_FAILED && end->conn_id == 7 && strcmp(end->code, "ENOMEM") == 0 &&
            strcmp(end->message, "out of memory") == 0,
        "then the terminal item alone, OPEN_FAILED ENOMEM");
  CHECK(k.in.batch == NULL, "nothing is left to hand over");
  uv_run(&loop, UV_RUN_DEFAULT); /* the connection's handles close; it frees itself */
  for (int i = 0; i < k.n; i++) nx_batch_free(k.handed[i]);
  nx__ingest_free(&k.in);
  CHECK(uv_loop_close(&loop) == 0, "every handle closed");
}

/* A payload the tape has no room for (a large answer on a host short of
 * memory) fails alone: nothing of it was written, so the tables stay in
 * step with the JS mirror and every later payload, of any connection, goes
 * on the tape as before. */
static void test_no_room_for_a_payload(void) {
  tape_rig r;
  tape_rig_init(&r);
  msgpack_pack_map(&r.pk, 1);
  msgpack_pack_str_with_body(&r.pk, "ok", 2);
  msgpack_pack_true(&r.pk);
  atomic_store(&realloc_fails, 1); /* the sbuffer has room for the slack: only the tape asks */
  int rc = tape_rig_append(&r, NX_TAPE_ANSWER, NULL);
  atomic_store(&realloc_fails, 0);
  CHECK(rc == -1 && r.tape.nops == 0 && r.tape.values == 0, "no room: the answer fails, nothing written (%zu ops)", r.tape.nops);
  int later = 0;
  for (int i = 0; i < 2; i++) {
    msgpack_pack_map(&r.pk, 1);
    msgpack_pack_str_with_body(&r.pk, "ok", 2);
    msgpack_pack_true(&r.pk);
    later += tape_rig_append(&r, i ? NX_TAPE_EVENT : NX_TAPE_ANSWER, NULL) == 0;
  }
  CHECK(later == 2 && r.tape.values == 2, "then an answer and an event go on the tape: the tables still work");
  tape_rig_free(&r);
}

void test_end_without_memory(void) {
  test_closed_without_memory();
  test_open_failed_without_memory();
  test_end_when_the_batch_cannot_grow();
  test_no_room_for_a_payload();
}
