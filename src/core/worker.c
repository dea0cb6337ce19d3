/* The worker thread: its own libuv loop, a command queue fed by the owner
 * thread through uv_async, and the handover of batches (filled by ingest.c)
 * once a loop turn is done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "internal.h"

enum { CMD_OPEN = 1, CMD_SEND, CMD_CLOSE, CMD_ACK };

typedef struct nx_cmd {
  struct nx_cmd *next;
  int kind;
  uint32_t conn_id;
  union {
    nx_conn *conn;   /* CMD_OPEN: built on the owner thread, started here */
    nx_wbuf *buf;    /* CMD_SEND */
    int graceful;    /* CMD_CLOSE */
    uint32_t events; /* CMD_ACK: how many change events the owner is done with */
  } arg;
} nx_cmd;

void nx_batch_free(nx_batch *b) {
  if (!b) return;
  msgpack_zone_destroy(&b->zone);
  nx_tape_free(&b->tape);
  free(b->items);
  free(b);
}

/* A batch's zone (its items' messages; payloads go on the tape) starts with
 * one chunk this large, kept when recycled. */
#define NX_ZONE_CHUNK 4096
#define NX_SPARE_MAX 4
#define NX_WORKER_STACK (1024 * 1024)

static nx_batch *batch_new(nx_worker *w) {
  uv_mutex_lock(&w->mu);
  nx_batch *b = w->nspare ? w->spare[--w->nspare] : NULL;
  uv_mutex_unlock(&w->mu);
  if (b) return b;
  b = calloc(1, sizeof(*b));
  if (!b) return NULL;
  if (!msgpack_zone_init(&b->zone, NX_ZONE_CHUNK)) {
    free(b);
    return NULL;
  }
  return b;
}

void nx_worker_recycle(nx_worker *w, nx_batch *b) {
  if (!b) return;
  /* Keep the capacities, drop the contents. A batch that grew very large is
   * not kept: one burst must not pin its memory; nor a connection's small
   * reserve for its terminal item (conn.c), which would make a poor batch. */
  if (b->zone.chunk_size < NX_ZONE_CHUNK || b->cap > 8192 || b->tape.cap_ops > (4u << 20) || b->tape.cap_str > (8u << 20) || b->tape.cap_bins > (1u << 20)) {
    nx_batch_free(b);
    return;
  }
  msgpack_zone_clear(&b->zone); /* frees all but the first chunk */
  b->n = 0;
  b->bytes = 0;
  nx_tape_reset(&b->tape);
  uv_mutex_lock(&w->mu);
  if (w->nspare < NX_SPARE_MAX && !w->stopping) {
    w->spare[w->nspare++] = b;
    b = NULL;
  }
  uv_mutex_unlock(&w->mu);
  if (b) nx_batch_free(b); /* the spares are full */
}

static void flush(nx_worker *w) {
  nx_batch *b = nx__ingest_take(&w->in);
  if (!b) return;
  uv_idle_stop(&w->idle);
  if (w->stopped) nx_batch_free(b);
  else w->deliver(w->ud, b);
}

static void on_idle(uv_idle_t *h) { flush(h->data); }
static void on_check(uv_check_t *h) { flush(h->data); }

/* ingest.c's callbacks: a batch to fill, and one to hand over now. */
static nx_batch *fresh_batch(void *ud) {
  nx_worker *w = ud;
  nx_batch *b = batch_new(w);
  /* An active idle handle keeps the loop from blocking in poll while a
   * batch waits, whichever phase queued it (close callbacks run late). */
  if (b) uv_idle_start(&w->idle, on_idle);
  return b;
}

static void batch_full(void *ud) { flush(ud); }

static nx_conn *find(nx_worker *w, uint32_t id) {
  for (nx_conn *c = w->conns; c; c = c->next)
    if (c->id == id) return c;
  return NULL;
}

static void free_cmd(nx_cmd *cmd) {
  if (cmd->kind == CMD_SEND) nx__wbuf_free(cmd->arg.buf);
  if (cmd->kind == CMD_OPEN && cmd->arg.conn) nx__conn_abort(cmd->arg.conn);
  free(cmd);
}

static void run_cmd(nx_worker *w, nx_cmd *cmd) {
  nx_conn *c;
  switch (cmd->kind) {
    case CMD_OPEN:
      c = cmd->arg.conn;
      cmd->arg.conn = NULL;
      nx__conn_start(c, &w->conns);
      break;
    case CMD_SEND:
      c = find(w, cmd->conn_id);
      /* A send to a connection already gone is dropped: its terminal event
       * is on its way to the owner, which fails the request then. */
      if (c) {
        nx__conn_send(c, cmd->arg.buf);
        cmd->arg.buf = NULL;
      }
      break;
    case CMD_CLOSE:
      c = find(w, cmd->conn_id);
      if (c) nx__conn_close(c, cmd->arg.graceful);
      break;
    case CMD_ACK:
      c = find(w, cmd->conn_id);
      if (c) nx__conn_ack(c, cmd->arg.events);
      break;
  }
  free_cmd(cmd);
}

static void close_cb(uv_handle_t *h) { (void)h; }

static void shutdown_loop(nx_worker *w) {
  w->stopped = 1;
  nx_batch_free(nx__ingest_take(&w->in));
  while (w->conns) {
    nx_conn *c = w->conns;
    w->conns = c->next;
    nx__conn_abort(c);
  }
  uv_close((uv_handle_t *)&w->async, close_cb);
  uv_close((uv_handle_t *)&w->check, close_cb);
  uv_close((uv_handle_t *)&w->idle, close_cb);
}

static void on_async(uv_async_t *h) {
  nx_worker *w = h->data;
  if (w->stopped) return;
  uv_mutex_lock(&w->mu);
  nx_cmd *list = w->cmds;
  int stopping = w->stopping;
  w->cmds = w->cmds_tail = NULL;
  uv_mutex_unlock(&w->mu);
  while (list) {
    nx_cmd *next = list->next;
    if (stopping) free_cmd(list);
    else run_cmd(w, list);
    list = next;
  }
  if (stopping) shutdown_loop(w);
}

static void thread_main(void *arg) {
  nx_worker *w = arg;
  uv_run(&w->loop, UV_RUN_DEFAULT);
  /* Handles of aborted connections may still be closing. */
  while (uv_loop_close(&w->loop) == UV_EBUSY) uv_run(&w->loop, UV_RUN_NOWAIT);
}

nx_worker *nx_worker_new(nx_deliver_fn deliver, void *ud) {
  nx_worker *w = calloc(1, sizeof(*w));
  if (!w) return NULL;
  w->deliver = deliver;
  w->ud = ud;
  if (nx__ingest_init(&w->in, fresh_batch, batch_full, w)) {
    free(w);
    return NULL;
  }
  if (uv_loop_init(&w->loop)) goto fail_loop;
  if (uv_mutex_init(&w->mu)) goto fail_mutex;
  uv_async_init(&w->loop, &w->async, on_async);
  uv_check_init(&w->loop, &w->check);
  uv_idle_init(&w->loop, &w->idle);
  w->async.data = w->check.data = w->idle.data = w;
  uv_check_start(&w->check, on_check);
  /* The check handle must not keep the loop alive on its own; the async
   * handle does, until shutdown closes it. */
  uv_unref((uv_handle_t *)&w->check);
  /* A stack of a known size, not the platform's default (as little as
   * 128 KiB on musl): the tape writer recurses once a level, and an event
   * at the nesting limit takes about 150 KiB of it (tape.c find_shapes). */
  uv_thread_options_t thread_opts = {UV_THREAD_HAS_STACK_SIZE, NX_WORKER_STACK};
  if (uv_thread_create_ex(&w->thread, &thread_opts, thread_main, w)) goto fail_thread;
  return w;
fail_thread:
  uv_close((uv_handle_t *)&w->async, NULL);
  uv_close((uv_handle_t *)&w->check, NULL);
  uv_close((uv_handle_t *)&w->idle, NULL);
  uv_run(&w->loop, UV_RUN_DEFAULT);
  uv_mutex_destroy(&w->mu);
fail_mutex:
  uv_loop_close(&w->loop);
fail_loop:
  nx__ingest_free(&w->in);
  free(w);
  return NULL;
}

static int push(nx_worker *w, nx_cmd *cmd) {
  uv_mutex_lock(&w->mu);
  if (w->stopping) {
    uv_mutex_unlock(&w->mu);
    free_cmd(cmd);
    return -1;
  }
  if (w->cmds_tail) w->cmds_tail->next = cmd;
  else w->cmds = cmd;
  w->cmds_tail = cmd;
  uv_mutex_unlock(&w->mu);
  uv_async_send(&w->async);
  return 0;
}

void nx_worker_free(nx_worker *w) {
  if (!w) return;
  uv_mutex_lock(&w->mu);
  w->stopping = 1;
  uv_mutex_unlock(&w->mu);
  uv_async_send(&w->async);
  uv_thread_join(&w->thread);
  /* Commands queued after the last wakeup. */
  while (w->cmds) {
    nx_cmd *next = w->cmds->next;
    free_cmd(w->cmds);
    w->cmds = next;
  }
  for (int i = 0; i < w->nspare; i++) nx_batch_free(w->spare[i]);
  uv_mutex_destroy(&w->mu);
  nx__ingest_free(&w->in);
  free(w);
}

int nx_worker_open(nx_worker *w, uint32_t conn_id, const nx_conn_opts *opts) {
  nx_cmd *cmd = calloc(1, sizeof(*cmd));
  if (!cmd) return -1;
  cmd->kind = CMD_OPEN;
  cmd->arg.conn = nx__conn_new(&w->loop, &w->in, conn_id, opts);
  if (!cmd->arg.conn) {
    free(cmd);
    return -1;
  }
  return push(w, cmd);
}

int nx_worker_send(nx_worker *w, uint32_t conn_id, uint32_t req_id, char *frame, size_t len) {
  nx_cmd *cmd = calloc(1, sizeof(*cmd));
  nx_wbuf *b = calloc(1, sizeof(*b));
  if (!cmd || !b) {
    free(cmd);
    free(b);
    free(frame);
    return -1;
  }
  b->data = frame;
  b->len = len;
  b->req_id = req_id;
  cmd->kind = CMD_SEND;
  cmd->conn_id = conn_id;
  cmd->arg.buf = b;
  return push(w, cmd);
}

static nx_cmd *cmd_for(int kind, uint32_t conn_id) {
  nx_cmd *cmd = calloc(1, sizeof(*cmd));
  if (cmd) {
    cmd->kind = kind;
    cmd->conn_id = conn_id;
  }
  return cmd;
}

int nx_worker_ack(nx_worker *w, uint32_t conn_id, uint32_t events) {
  nx_cmd *cmd = cmd_for(CMD_ACK, conn_id);
  if (!cmd) return -1;
  cmd->arg.events = events;
  return push(w, cmd);
}

int nx_worker_close(nx_worker *w, uint32_t conn_id, int graceful) {
  nx_cmd *cmd = cmd_for(CMD_CLOSE, conn_id);
  if (!cmd) return -1;
  cmd->arg.graceful = graceful ? 1 : 0;
  return push(w, cmd);
}
