/* A connection's protocol on its open socket: the CONNECT handshake,
 * requests and their answers in order, change events, keepalive, the
 * high-water mark, and the DISCONNECT goodbye. It sits above conn.c, which
 * dials the socket and ends the connection: this file calls down into it
 * (conn.h) and is reached from it only through the callback given to
 * nx__conn_dial. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "conn.h"

#define NX_DISCONNECT_WAIT_MS 2000

/* The read callbacks: the handshake starts reading, a resume restarts it. */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* ---- writing ---- */

static void on_write(uv_write_t *req, int status) {
  nx_wbuf *b = (nx_wbuf *)req;
  nx_conn *c = req->data;
  nx__wbuf_free(b);
  if (status < 0 && status != UV_ECANCELED) nx__conn_end_with_uv(c, status);
}

static void write_raw(nx_conn *c, nx_wbuf *b) {
  uv_buf_t buf = uv_buf_init(b->data, (unsigned int)b->len);
  b->wr.data = c;
  int rc = uv_write(&b->wr, (uv_stream_t *)&c->tcp, &buf, 1, on_write);
  if (rc) {
    nx__wbuf_free(b);
    nx__conn_end_with_uv(c, rc);
  }
}

static void write_request(nx_conn *c, nx_wbuf *b) {
  if (nx__ring_push(&c->fifo, b->req_id)) {
    nx__wbuf_free(b);
    nx__conn_end_with(c, "ENOMEM", "out of memory queueing a request", NULL);
    return;
  }
  write_raw(c, b);
}

void nx__conn_send(nx_conn *c, nx_wbuf *b) {
  b->next = NULL;
  switch (c->state) {
    case NX_S_RESOLVING:
    case NX_S_CONNECTING:
    case NX_S_HANDSHAKE:
      if (c->queued_tail) c->queued_tail->next = b;
      else c->queued = b;
      c->queued_tail = b;
      return;
    case NX_S_READY:
      write_request(c, b);
      return;
    default:
      /* Closing: the terminal item fails the request on the owner's side. */
      nx__wbuf_free(b);
  }
}

static nx_wbuf *wbuf_from(msgpack_sbuffer *sb) {
  nx_wbuf *b = calloc(1, sizeof(*b));
  if (!b) {
    msgpack_sbuffer_destroy(sb);
    return NULL;
  }
  b->len = sb->size;
  b->data = msgpack_sbuffer_release(sb);
  return b;
}


/* ---- keepalive ---- */

static void on_ka_timer(uv_timer_t *t);

/* Arms the keepalive timer for the next moment something may be due. */
static void ka_schedule(nx_conn *c) {
  if (!c->ka_ms || c->state != NX_S_READY) return;
  uint64_t now = uv_now(c->loop);
  uint64_t due = c->ping_at ? c->ping_at + c->ka_timeout_ms : c->last_rx + c->ka_ms;
  uv_timer_start(&c->ka_timer, on_ka_timer, due > now ? due - now : 0, 0);
}

static void on_ka_timer(uv_timer_t *t) {
  nx_conn *c = t->data;
  if (c->state != NX_S_READY) return;
  uint64_t now = uv_now(c->loop);
  if (c->paused) {
    /* Not reading: silence proves nothing. Look again a period later. */
    c->last_rx = now;
    c->ping_at = 0;
  } else if (c->ping_at) {
    if (now >= c->ping_at + c->ka_timeout_ms) {
      char msg[96];
      snprintf(msg, sizeof(msg), "no answer to a keepalive PING within %u ms", (unsigned)c->ka_timeout_ms);
      nx__conn_end_with(c, "ETIMEDOUT", msg, NULL);
      return;
    }
  } else if (now >= c->last_rx + c->ka_ms) {
    msgpack_sbuffer sb;
    nx_wbuf *b = NULL;
    if (nx_encode_empty(&sb, NX_MSG_PING) == 0) b = wbuf_from(&sb);
    else msgpack_sbuffer_destroy(&sb);
    if (!b) {
      nx__conn_end_with(c, "ENOMEM", "out of memory", NULL);
      return;
    }
    b->req_id = NX_FIFO_KEEPALIVE;
    c->ping_at = now;
    write_request(c, b);
    if (c->state != NX_S_READY) return;
  }
  ka_schedule(c);
}

/* ---- backpressure ---- */

static int over_high_water(const nx_conn *c) {
  return (c->hwm_events && c->sizes.len >= c->hwm_events) || (c->hwm_bytes && c->unacked_bytes >= c->hwm_bytes);
}

/* Tells the owner that reading stopped or goes on: the decision is made
 * here alone, the owner only reports what it consumed (nx__conn_ack). The
 * report only informs (stats, the debug log): without memory for it the
 * connection goes on unreported rather than end over it. */
static void report_flow(nx_conn *c, uint8_t kind) {
  (void)nx__batch_add(c->in, c->id, kind);
}

static void pause_reading(nx_conn *c) {
  if (c->paused || c->state != NX_S_READY) return;
  uv_read_stop((uv_stream_t *)&c->tcp);
  c->paused = 1;
  report_flow(c, NX_EV_PAUSED);
}

void nx__conn_ack(nx_conn *c, uint32_t events) {
  if (events > c->sizes.len) events = (uint32_t)c->sizes.len;
  for (uint32_t i = 0; i < events; i++) c->unacked_bytes -= nx__ring_pop(&c->sizes);
  if (!c->paused || c->state != NX_S_READY) return;
  /* Resume once a quarter of the bound is free: in steps, and early enough
   * that the main thread still has work while reading restarts (bench/README.md). */
  if ((c->hwm_events && c->sizes.len > c->hwm_events - (c->hwm_events + 3) / 4) ||
      (c->hwm_bytes && c->unacked_bytes > c->hwm_bytes - (c->hwm_bytes + 3) / 4))
    return; /* a quarter rounded up: a bound of 1 to 3 frees at least one */
  c->paused = 0;
  c->last_rx = uv_now(c->loop);
  c->ping_at = 0;
  int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  if (rc) {
    nx__conn_end_with_uv(c, rc);
    return;
  }
  report_flow(c, NX_EV_RESUMED);
  ka_schedule(c);
}

/* ---- the handshake and what arrives ---- */

/* A refused handshake's message. The answer goes with it: its `error` text,
 * when it has one, is what the owner shows (lib/errors.js serverText). */
static const char REFUSED[] = "the server refused the connection";

/* The socket is connected: read, and send CONNECT. */
static void handshake(nx_conn *c) {
  int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  if (rc) {
    nx__conn_end_with_uv(c, rc);
    return;
  }
  msgpack_sbuffer sb;
  nx_wbuf *b = NULL;
  if (nx_encode_connect(&sb, c->user, strlen(c->user), c->pass, strlen(c->pass)) == 0) b = wbuf_from(&sb);
  else msgpack_sbuffer_destroy(&sb);
  if (!b) {
    nx__conn_end_with(c, "ENOMEM", "out of memory", NULL);
    return;
  }
  write_raw(c, b);
}

void nx__conn_start(nx_conn *c, nx_conn **list) {
  nx__conn_dial(c, list, handshake);
}

static int on_handshake_answer(nx_conn *c, uint8_t type, const uint8_t *p, size_t len) {
  char err[160];
  nx_item head = { .kind = NX_EV_OPEN, .conn_id = c->id };
  nx_item *it;
  int rc = nx__ingest_frame(c->in, &head, p, len, &it, err, sizeof(err));
  if (rc != NX_INGEST_ADDED) {
    nx__conn_end_with(c, rc == NX_INGEST_NOMEM ? "ENOMEM" : "NEXA_PROTOCOL", err, NULL);
    return 1;
  }
  if (type != NX_MSG_SUCCESS) {
    /* The answer's item becomes the terminal one: its payload, on the tape,
     * goes with the refusal (the server's `error` text). */
    const char *code = type == NX_MSG_ERROR ? "NEXA_AUTH" : "NEXA_PROTOCOL";
    nx__conn_end_with(c, code, REFUSED, it);
    return 1;
  }
  c->opened = 1;
  c->state = NX_S_READY;
  uv_timer_stop(&c->timer);
  c->last_rx = uv_now(c->loop);
  ka_schedule(c);
  nx_wbuf *q = c->queued;
  c->queued = c->queued_tail = NULL;
  while (q && c->state == NX_S_READY) {
    nx_wbuf *next = q->next;
    write_request(c, q);
    q = next;
  }
  nx__wbufs_free(q);
  /* A send that failed ended the connection: nothing after its terminal item. */
  return c->state != NX_S_READY;
}

static int on_frame(void *ud, uint8_t type, uint16_t flags, const uint8_t *p, size_t len) {
  nx_conn *c = ud;
  char err[160];
  (void)flags;
  if (c->state == NX_S_HANDSHAKE && type != NX_MSG_CHANGE_EVENT)
    return on_handshake_answer(c, type, p, len);
  nx_item head = { .kind = NX_EV_CHANGE, .conn_id = c->id };
  if (type != NX_MSG_CHANGE_EVENT) {
    if (c->fifo.len == 0) {
      snprintf(err, sizeof(err), "an answer (type 0x%02x) arrived with no request waiting", type);
      nx__conn_end_with(c, "NEXA_PROTOCOL", err, NULL);
      return 1;
    }
    uint32_t req = nx__ring_pop(&c->fifo);
    if (req == NX_FIFO_DISCONNECT) {
      nx__conn_end_with(c, NULL, NULL, NULL);
      return 1;
    }
    if (req == NX_FIFO_KEEPALIVE) {
      c->ping_at = 0; /* alive: the answer itself is nobody's business */
      return 0;
    }
    head.kind = NX_EV_REPLY;
    head.req_id = req;
    head.msg_type = type;
  }
  nx_item *it;
  int rc = nx__ingest_frame(c->in, &head, p, len, &it, err, sizeof(err));
  if (rc == NX_INGEST_NOMEM) {
    nx__conn_end_with(c, "ENOMEM", err, NULL);
    return 1;
  }
  /* An event the owner has yet to acknowledge counts against the bound; one
   * that failed the check does not (nx.h). */
  if (rc == NX_INGEST_ADDED && head.kind == NX_EV_CHANGE && (c->hwm_events || c->hwm_bytes)) {
    if (nx__ring_push(&c->sizes, (uint32_t)len)) {
      nx__conn_end_with(c, "ENOMEM", "out of memory", NULL);
      return 1;
    }
    c->unacked_bytes += len;
  }
  return 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  nx_conn *c = h->data;
  (void)suggested;
  *buf = c->rbuf;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  nx_conn *c = s->data;
  if (c->state == NX_S_CLOSING) return;
  if (nread < 0) {
    if (c->state == NX_S_DISCONNECTING) nx__conn_end_with(c, NULL, NULL, NULL);
    else nx__conn_end_with_uv(c, (int)nread);
    return;
  }
  c->last_rx = uv_now(c->loop);
  int rc = nx_reader_feed(&c->reader, (const uint8_t *)buf->base, (size_t)nread, on_frame, c);
  if (rc == NX_READ_PROTO || rc == NX_READ_NOMEM)
    nx__conn_end_with(c, rc == NX_READ_PROTO ? "NEXA_PROTOCOL" : "ENOMEM", c->reader.error, NULL);
  else if (over_high_water(c)) /* after the whole read: it may also have ended the connection or readied it */
    pause_reading(c);
}

/* ---- the goodbye ---- */

/* The server did not answer DISCONNECT: close anyway. */
static void on_goodbye_timeout(uv_timer_t *t) {
  nx__conn_end_with(t->data, NULL, NULL, NULL);
}

void nx__conn_close(nx_conn *c, int graceful) {
  if (c->state == NX_S_CLOSING || c->state == NX_S_DISCONNECTING) return;
  /* A paused connection could not read the goodbye: it closes at once. */
  if (graceful && c->state == NX_S_READY && !c->paused) {
    msgpack_sbuffer sb;
    nx_wbuf *b = NULL;
    if (nx_encode_empty(&sb, NX_MSG_DISCONNECT) == 0) b = wbuf_from(&sb);
    else msgpack_sbuffer_destroy(&sb);
    if (b && nx__ring_push(&c->fifo, NX_FIFO_DISCONNECT) == 0) {
      c->state = NX_S_DISCONNECTING;
      uv_timer_start(&c->timer, on_goodbye_timeout, NX_DISCONNECT_WAIT_MS, 0);
      write_raw(c, b);
      return;
    }
    nx__wbuf_free(b);
  }
  nx__conn_end_with(c, NULL, NULL, NULL);
}
