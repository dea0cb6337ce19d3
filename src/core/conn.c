/* One connection's life on the worker loop:
 * RESOLVING -> CONNECTING -> HANDSHAKE (CONNECT sent) -> READY
 *   -> DISCONNECTING (DISCONNECT sent) -> CLOSING -> freed.
 * This file resolves, dials and retries, owns the handles and the memory,
 * and ends the connection; what is said on the open socket is session.c's,
 * which calls down into this file (conn.h) and is never called by name from
 * it: the connected socket goes up through the callback nx__conn_dial was
 * given. Every connection ends with exactly one terminal item:
 * NX_EV_OPEN_FAILED if it never opened, NX_EV_CLOSED otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"

static char *dup_str(const char *s) {
  if (!s) s = "";
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

void nx__wbufs_free(nx_wbuf *b) {
  while (b) {
    nx_wbuf *next = b->next;
    nx__wbuf_free(b);
    b = next;
  }
}

static void drop_queued(nx_conn *c) {
  nx__wbufs_free(c->queued);
  c->queued = c->queued_tail = NULL;
}

/* Room for the terminal item's message (built in buffers of at most 160 bytes). */
#define NX_END_ZONE 512

static nx_batch *end_batch_new(void) {
  nx_batch *b = calloc(1, sizeof(*b));
  nx_item *item = malloc(sizeof(*item));
  if (!b || !item || !msgpack_zone_init(&b->zone, NX_END_ZONE)) {
    free(b);
    free(item);
    return NULL;
  }
  b->items = item;
  b->cap = 1;
  return b;
}

static void free_conn(nx_conn *c) {
  nx_batch_free(c->end_batch);
  free(c->host);
  if (c->pass) memset(c->pass, 0, strlen(c->pass)); /* credentials do not linger */
  free(c->pass);
  free(c->user);
  nx_reader_free(&c->reader);
  nx__ring_free(&c->fifo);
  nx__ring_free(&c->sizes);
  drop_queued(c);
  if (c->ai) uv_freeaddrinfo(c->ai);
  free(c);
}

nx_conn *nx__conn_new(uv_loop_t *loop, nx_ingest *in, uint32_t id, const nx_conn_opts *o) {
  nx_conn *c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  c->loop = loop;
  c->in = in;
  c->rbuf = nx__ingest_read_buf(in);
  c->id = id;
  c->port = o->port;
  c->timeout_ms = o->connect_timeout_ms;
  c->ka_ms = o->keepalive_ms;
  c->ka_timeout_ms = o->keepalive_timeout_ms ? o->keepalive_timeout_ms : o->keepalive_ms;
  c->hwm_events = o->hwm_events;
  c->hwm_bytes = o->hwm_bytes;
  c->host = dup_str(o->host);
  c->user = dup_str(o->user);
  c->pass = dup_str(o->pass);
  nx_reader_init(&c->reader, o->max_frame);
  c->end_batch = end_batch_new();
  if (!c->host || !c->user || !c->pass || !c->end_batch) {
    free_conn(c);
    return NULL;
  }
  return c;
}

/* Handle lifetime. Every handle (and the address lookup) joins the
 * connection's set when opened and is closed through close_once, once; its
 * close callback settles it, and the last one settled after closing began
 * frees the connection. */
static void opened(nx_conn *c, unsigned h) {
  c->live |= h;
  c->pending |= h;
}

static void close_once(nx_conn *c, unsigned h, uv_close_cb cb) {
  if (!(c->live & h)) return;
  c->live &= ~h;
  switch (h) {
    case NX_H_TIMER: uv_close((uv_handle_t *)&c->timer, cb); break;
    case NX_H_KA_TIMER: uv_close((uv_handle_t *)&c->ka_timer, cb); break;
    case NX_H_TCP: uv_close((uv_handle_t *)&c->tcp, cb); break;
    case NX_H_GAI: uv_cancel((uv_req_t *)&c->gai); break; /* on_resolved settles it */
  }
}

static void settle(nx_conn *c, unsigned h) {
  c->pending &= ~h;
  if (!c->pending && c->state == NX_S_CLOSING) free_conn(c);
}

static void on_handle_closed(uv_handle_t *h) {
  nx_conn *c = h->data;
  settle(c, h == (uv_handle_t *)&c->tcp ? NX_H_TCP : h == (uv_handle_t *)&c->timer ? NX_H_TIMER : NX_H_KA_TIMER);
}

static void unlink_conn(nx_conn *c) {
  for (nx_conn **pp = c->list; pp && *pp; pp = &(*pp)->next) {
    if (*pp == c) {
      *pp = c->next;
      return;
    }
  }
}

static void begin_close(nx_conn *c) {
  if (c->state == NX_S_CLOSING) return;
  c->state = NX_S_CLOSING;
  unlink_conn(c);
  drop_queued(c);
  close_once(c, NX_H_TIMER, on_handle_closed);
  close_once(c, NX_H_KA_TIMER, on_handle_closed);
  close_once(c, NX_H_TCP, on_handle_closed);
  close_once(c, NX_H_GAI, NULL);
}

void nx__conn_end_with(nx_conn *c, const char *code, const char *msg, nx_item *answer) {
  if (c->state == NX_S_CLOSING) return;
  uint8_t kind = c->opened ? NX_EV_CLOSED : NX_EV_OPEN_FAILED;
  if (!c->opened && !code) {
    code = "NEXA_CLOSED";
    msg = "closed before the connection was established";
  }
  /* The terminal item settles the connection's requests and ends its stream
   * on the owner's side, so memory running out must not lose it. Each
   * connection reserves, when made, a batch with room for it (end_batch): not
   * a spare slot per batch, as several connections may end in one batch and
   * there may be no batch at all. When the batch being filled cannot take the
   * item, that batch is handed over, then the item alone in the reserve, at
   * once: in order, and with nothing left for the loop to hand over later. */
  nx_item *it = answer ? answer : nx__batch_add(c->in, c->id, kind);
  int reserved = it == NULL;
  if (reserved) {
    nx__ingest_hand_over(c->in, c->end_batch);
    c->end_batch = NULL;
    it = nx__batch_add(c->in, c->id, kind); /* the reserve's one slot: no allocation */
  }
  it->kind = kind; /* an answer's item was OPEN */
  it->code = code;
  if (msg) it->message = nx__batch_str(c->in, msg);
  if (reserved) nx__ingest_hand_over(c->in, NULL);
  begin_close(c);
}

void nx__conn_end_with_uv(nx_conn *c, int status) {
  const char *code = uv_err_name(status);
  /* Node reports a name that does not resolve as ENOTFOUND; so do we. */
  if (status == UV_EAI_NONAME || status == UV_EAI_NODATA) code = "ENOTFOUND";
  else if (status == UV_EOF) code = "ECONNRESET";
  char msg[160];
  snprintf(msg, sizeof(msg), "%s", status == UV_EOF ? "the server closed the connection" : uv_strerror(status));
  nx__conn_end_with(c, code, msg, NULL);
}

static void try_next_address(nx_conn *c);

/* The socket of an address that failed is closed: try the next one. */
static void on_retry_closed(uv_handle_t *h) {
  nx_conn *c = h->data;
  int closing = c->state == NX_S_CLOSING;
  settle(c, NX_H_TCP); /* frees c when closing */
  if (!closing) try_next_address(c);
}

static void on_connect(uv_connect_t *req, int status) {
  nx_conn *c = req->data;
  if (c->state != NX_S_CONNECTING) return; /* closed meanwhile */
  if (status < 0) {
    if (c->ai_next) {
      close_once(c, NX_H_TCP, on_retry_closed);
      return;
    }
    nx__conn_end_with_uv(c, status);
    return;
  }
  c->state = NX_S_HANDSHAKE;
  uv_tcp_nodelay(&c->tcp, 1);
  c->connected(c);
}

static void try_next_address(nx_conn *c) {
  struct addrinfo *ai = c->ai_next;
  c->ai_next = ai->ai_next;
  uv_tcp_init(c->loop, &c->tcp);
  c->tcp.data = c;
  opened(c, NX_H_TCP);
  c->state = NX_S_CONNECTING;
  c->creq.data = c;
  int rc = uv_tcp_connect(&c->creq, &c->tcp, ai->ai_addr, on_connect);
  if (rc) {
    if (c->ai_next) {
      close_once(c, NX_H_TCP, on_retry_closed);
    } else {
      nx__conn_end_with_uv(c, rc);
    }
  }
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  nx_conn *c = req->data;
  c->live &= ~NX_H_GAI;
  int closing = c->state == NX_S_CLOSING;
  if (closing && res) uv_freeaddrinfo(res);
  settle(c, NX_H_GAI); /* frees c when closing */
  if (closing) return;
  if (status < 0) {
    nx__conn_end_with_uv(c, status);
    return;
  }
  c->ai = res;
  c->ai_next = res;
  if (!res) {
    nx__conn_end_with_uv(c, UV_EAI_NONAME);
    return;
  }
  try_next_address(c);
}

static void on_connect_timeout(uv_timer_t *t) {
  nx_conn *c = t->data;
  char msg[96];
  snprintf(msg, sizeof(msg), "connection not established within %u ms", (unsigned)c->timeout_ms);
  nx__conn_end_with(c, "ETIMEDOUT", msg, NULL);
}

void nx__conn_dial(nx_conn *c, nx_conn **list, void (*connected)(nx_conn *c)) {
  c->connected = connected;
  c->list = list;
  c->next = *list;
  *list = c;
  uv_timer_init(c->loop, &c->timer);
  uv_timer_init(c->loop, &c->ka_timer);
  c->timer.data = c->ka_timer.data = c;
  opened(c, NX_H_TIMER | NX_H_KA_TIMER);
  c->state = NX_S_RESOLVING;
  if (c->timeout_ms) uv_timer_start(&c->timer, on_connect_timeout, c->timeout_ms, 0);
  struct addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  char port[8];
  snprintf(port, sizeof(port), "%u", (unsigned)c->port);
  c->gai.data = c;
  int rc = uv_getaddrinfo(c->loop, &c->gai, on_resolved, c->host, port, &hints);
  if (rc) {
    nx__conn_end_with_uv(c, rc);
    return;
  }
  opened(c, NX_H_GAI);
}

void nx__conn_abort(nx_conn *c) {
  if (c->state == 0) {
    free_conn(c); /* never started */
    return;
  }
  begin_close(c);
}
