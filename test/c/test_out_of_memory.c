/* A connection ends with its terminal item even when memory runs out: that
 * item is what settles its requests and ends its stream on the owner's side.
 * The seam: the worker makes its batches through the callback it gave
 * ingest.c (w->in.fresh); these tests wrap it so that no batch can be had,
 * which needs nothing compiled into the core. */
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
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

void test_end_without_memory(void) {
  test_closed_without_memory();
  test_open_failed_without_memory();
}
