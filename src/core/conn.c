/* One connection's life on the worker loop:
 * RESOLVING -> CONNECTING -> HANDSHAKE (CONNECT sent) -> READY
 *   -> DISCONNECTING (DISCONNECT sent) -> CLOSING -> freed.
 * Every connection ends with exactly one terminal item: NX_EV_OPEN_FAILED if
 * it never opened, NX_EV_CLOSED otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "internal.h"

#define NX_DISCONNECT_WAIT_MS 2000

static char *dup_str(const char *s) {
  if (!s) s = "";
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

static void free_wbufs(nx_wbuf *b) {
  while (b) {
    nx_wbuf *next = b->next;
    free(b->data);
    free(b);
    b = next;
  }
}

static void free_conn(nx_conn *c) {
  free(c->host);
  if (c->pass) memset(c->pass, 0, strlen(c->pass)); /* credentials do not linger */
  free(c->pass);
  free(c->user);
  nx_reader_free(&c->reader);
  nx__ring_free(&c->fifo);
  nx__ring_free(&c->sizes);
  free_wbufs(c->queued);
  if (c->ai) uv_freeaddrinfo(c->ai);
  free(c);
}

nx_conn *nx__conn_new(uv_loop_t *loop, nx_ingest *in, uint32_t id, const nx_conn_opts *o) {
  nx_conn *c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  c->loop = loop;
  c->in = in;
  c->id = id;
  c->int64_mode = o->int64_mode;
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
  if (!c->host || !c->user || !c->pass) {
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
  free_wbufs(c->queued);
  c->queued = c->queued_tail = NULL;
  close_once(c, NX_H_TIMER, on_handle_closed);
  close_once(c, NX_H_KA_TIMER, on_handle_closed);
  close_once(c, NX_H_TCP, on_handle_closed);
  close_once(c, NX_H_GAI, NULL);
}

/* Ends the connection with its terminal item (queued), then closes. code NULL: closed as asked. */
static void end_with(nx_conn *c, const char *code, const char *msg, const msgpack_object *obj) {
  if (c->state == NX_S_CLOSING) return;
  uint8_t kind = c->opened ? NX_EV_CLOSED : NX_EV_OPEN_FAILED;
  if (!c->opened && !code) {
    code = "NEXA_CLOSED";
    msg = "closed before the connection was established";
  }
  nx_item *it = nx__batch_add(c->in, c->id, c->int64_mode, kind);
  if (it) {
    it->code = code;
    if (msg) it->message = nx__batch_str(c->in, msg);
    if (obj) it->obj = *obj;
  }
  begin_close(c);
}

static void end_with_uv(nx_conn *c, int status) {
  const char *code = uv_err_name(status);
  /* Node reports a name that does not resolve as ENOTFOUND; so do we. */
  if (status == UV_EAI_NONAME || status == UV_EAI_NODATA) code = "ENOTFOUND";
  else if (status == UV_EOF) code = "ECONNRESET";
  char msg[160];
  snprintf(msg, sizeof(msg), "%s", status == UV_EOF ? "the server closed the connection" : uv_strerror(status));
  end_with(c, code, msg, NULL);
}

static void on_write(uv_write_t *req, int status) {
  nx_wbuf *b = (nx_wbuf *)req;
  nx_conn *c = req->data;
  free(b->data);
  free(b);
  if (status < 0 && status != UV_ECANCELED) end_with_uv(c, status);
}

static void write_raw(nx_conn *c, nx_wbuf *b) {
  uv_buf_t buf = uv_buf_init(b->data, (unsigned int)b->len);
  b->wr.data = c;
  int rc = uv_write(&b->wr, (uv_stream_t *)&c->tcp, &buf, 1, on_write);
  if (rc) {
    free(b->data);
    free(b);
    end_with_uv(c, rc);
  }
}

static void write_request(nx_conn *c, nx_wbuf *b) {
  if (nx__ring_push(&c->fifo, b->req_id)) {
    free(b->data);
    free(b);
    end_with(c, "ENOMEM", "out of memory queueing a request", NULL);
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
      free(b->data);
      free(b);
  }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

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

/* Pulls the server's `error` text out of an ERROR answer. */
static const char *error_text(const msgpack_object *o, char *out, size_t n) {
  if (o->type == MSGPACK_OBJECT_MAP) {
    for (uint32_t i = 0; i < o->via.map.size; i++) {
      const msgpack_object_kv *kv = &o->via.map.ptr[i];
      if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 5 &&
          memcmp(kv->key.via.str.ptr, "error", 5) == 0 && kv->val.type == MSGPACK_OBJECT_STR) {
        snprintf(out, n, "%.*s", (int)kv->val.via.str.size, kv->val.via.str.ptr);
        return out;
      }
    }
  }
  snprintf(out, n, "the server refused the connection");
  return out;
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
      end_with(c, "ETIMEDOUT", msg, NULL);
      return;
    }
  } else if (now >= c->last_rx + c->ka_ms) {
    msgpack_sbuffer sb;
    nx_wbuf *b = NULL;
    if (nx_encode_empty(&sb, NX_MSG_PING) == 0) b = wbuf_from(&sb);
    else msgpack_sbuffer_destroy(&sb);
    if (!b) {
      end_with(c, "ENOMEM", "out of memory", NULL);
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

/* An event the owner has yet to acknowledge: counted against the high-water mark. */
static int count_unacked(nx_conn *c, uint32_t size) {
  if (nx__ring_push(&c->sizes, size)) return -1;
  c->unacked_bytes += size;
  return 0;
}

static int over_high_water(const nx_conn *c) {
  return (c->hwm_events && c->sizes.len >= c->hwm_events) || (c->hwm_bytes && c->unacked_bytes >= c->hwm_bytes);
}

/* Tells the owner that reading stopped or goes on: the decision is made
 * here alone, the owner only reports what it consumed (nx__conn_ack). */
static int report_flow(nx_conn *c, uint8_t kind) {
  if (nx__batch_add(c->in, c->id, c->int64_mode, kind)) return 0;
  end_with(c, "ENOMEM", "out of memory", NULL);
  return -1;
}

static void maybe_pause(nx_conn *c) {
  if (c->paused || c->state != NX_S_READY || !over_high_water(c)) return;
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
  if (rc) end_with_uv(c, rc);
  else if (report_flow(c, NX_EV_RESUMED) == 0) ka_schedule(c);
}

static int on_handshake_answer(nx_conn *c, uint8_t type, const uint8_t *p, size_t len) {
  char err[160];
  nx_item *it = nx__batch_add(c->in, c->id, c->int64_mode, NX_EV_OPEN);
  if (!it) {
    end_with(c, "ENOMEM", "out of memory", NULL);
    return 1;
  }
  int rc = nx__batch_decode(c->in, it, p, len, err, sizeof(err));
  if (rc) {
    nx__batch_drop_last(c->in);
    end_with(c, rc == NX_DECODE_NOMEM ? "ENOMEM" : "NEXA_PROTOCOL", err, NULL);
    return 1;
  }
  if (type != NX_MSG_SUCCESS) {
    msgpack_object obj = it->obj;
    nx__batch_drop_last(c->in);
    char text[256];
    const char *code = type == NX_MSG_ERROR ? "NEXA_AUTH" : "NEXA_PROTOCOL";
    end_with(c, code, error_text(&obj, text, sizeof(text)), &obj);
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
  free_wbufs(q);
  return 0;
}

static int on_frame(void *ud, uint8_t type, uint16_t flags, const uint8_t *p, size_t len) {
  nx_conn *c = ud;
  char err[160];
  (void)flags;
  if (c->state == NX_S_HANDSHAKE && type != NX_MSG_CHANGE_EVENT)
    return on_handshake_answer(c, type, p, len);
  nx_item *it;
  if (type == NX_MSG_CHANGE_EVENT) {
    it = nx__batch_add(c->in, c->id, c->int64_mode, NX_EV_CHANGE);
    if (it) it->bytes = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
  } else {
    if (c->fifo.len == 0) {
      snprintf(err, sizeof(err), "an answer (type 0x%02x) arrived with no request waiting", type);
      end_with(c, "NEXA_PROTOCOL", err, NULL);
      return 1;
    }
    uint32_t req = nx__ring_pop(&c->fifo);
    if (req == NX_FIFO_DISCONNECT) {
      end_with(c, NULL, NULL, NULL);
      return 1;
    }
    if (req == NX_FIFO_KEEPALIVE) {
      c->ping_at = 0; /* alive: the answer itself is nobody's business */
      return 0;
    }
    it = nx__batch_add(c->in, c->id, c->int64_mode, NX_EV_REPLY);
    if (it) {
      it->req_id = req;
      it->msg_type = type;
    }
  }
  if (!it) {
    end_with(c, "ENOMEM", "out of memory", NULL);
    return 1;
  }
  int rc = nx__batch_decode(c->in, it, p, len, err, sizeof(err));
  if (rc == NX_DECODE_BAD) {
    /* The frame was whole and the stream is in step: only this answer or
     * event fails. Not counted against the high-water mark (nx.h). */
    int event = it->kind == NX_EV_CHANGE;
    char msg[256];
    snprintf(msg, sizeof(msg), "could not decode %s (%zu bytes): %s", event ? "a change event" : "the answer", len, err);
    it->kind = event ? NX_EV_UNDECODABLE : NX_EV_REPLY_FAILED;
    it->obj.type = MSGPACK_OBJECT_NIL;
    it->code = "NEXA_PROTOCOL";
    it->message = nx__batch_str(c->in, msg);
    return 0;
  }
  if (rc) {
    nx__batch_drop_last(c->in);
    end_with(c, "ENOMEM", err, NULL);
    return 1;
  }
  if (it->kind == NX_EV_CHANGE && (c->hwm_events || c->hwm_bytes) && count_unacked(c, (uint32_t)len)) {
    end_with(c, "ENOMEM", "out of memory", NULL);
    return 1;
  }
  return 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  nx_conn *c = h->data;
  (void)suggested;
  *buf = nx__ingest_read_buf(c->in);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  nx_conn *c = s->data;
  if (c->state == NX_S_CLOSING) return;
  if (nread < 0) {
    if (c->state == NX_S_DISCONNECTING) end_with(c, NULL, NULL, NULL);
    else end_with_uv(c, (int)nread);
    return;
  }
  c->last_rx = uv_now(c->loop);
  int rc = nx_reader_feed(&c->reader, (const uint8_t *)buf->base, (size_t)nread, on_frame, c);
  if (rc == NX_READ_PROTO || rc == NX_READ_NOMEM)
    end_with(c, rc == NX_READ_PROTO ? "NEXA_PROTOCOL" : "ENOMEM", c->reader.error, NULL);
  else
    maybe_pause(c);
  nx__ingest_read_done(c->in);
}

static void try_next_address(nx_conn *c);

/* The socket of an address that failed is closed: try the next one. */
static void on_retry_closed(uv_handle_t *h) {
  nx_conn *c = h->data;
  if (c->state == NX_S_CLOSING) {
    settle(c, NX_H_TCP);
    return;
  }
  c->pending &= ~NX_H_TCP;
  try_next_address(c);
}

static void on_connect(uv_connect_t *req, int status) {
  nx_conn *c = req->data;
  if (c->state != NX_S_CONNECTING) return; /* closed meanwhile */
  if (status < 0) {
    if (c->ai_next) {
      close_once(c, NX_H_TCP, on_retry_closed);
      return;
    }
    end_with_uv(c, status);
    return;
  }
  c->state = NX_S_HANDSHAKE;
  uv_tcp_nodelay(&c->tcp, 1);
  int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  if (rc) {
    end_with_uv(c, rc);
    return;
  }
  msgpack_sbuffer sb;
  nx_wbuf *b = NULL;
  if (nx_encode_connect(&sb, c->user, strlen(c->user), c->pass, strlen(c->pass)) == 0) b = wbuf_from(&sb);
  else msgpack_sbuffer_destroy(&sb);
  if (!b) {
    end_with(c, "ENOMEM", "out of memory", NULL);
    return;
  }
  write_raw(c, b);
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
      end_with_uv(c, rc);
    }
  }
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  nx_conn *c = req->data;
  c->live &= ~NX_H_GAI;
  if (c->state == NX_S_CLOSING) {
    if (res) uv_freeaddrinfo(res);
    settle(c, NX_H_GAI);
    return;
  }
  c->pending &= ~NX_H_GAI;
  if (status < 0) {
    end_with_uv(c, status);
    return;
  }
  c->ai = res;
  c->ai_next = res;
  if (!res) {
    end_with_uv(c, UV_EAI_NONAME);
    return;
  }
  try_next_address(c);
}

static void on_timer(uv_timer_t *t) {
  nx_conn *c = t->data;
  if (c->state == NX_S_DISCONNECTING) {
    end_with(c, NULL, NULL, NULL); /* the server did not answer DISCONNECT: close anyway */
    return;
  }
  char msg[96];
  snprintf(msg, sizeof(msg), "connection not established within %u ms", (unsigned)c->timeout_ms);
  end_with(c, "ETIMEDOUT", msg, NULL);
}

void nx__conn_start(nx_conn *c, nx_conn **list) {
  c->list = list;
  c->next = *list;
  *list = c;
  uv_timer_init(c->loop, &c->timer);
  uv_timer_init(c->loop, &c->ka_timer);
  c->timer.data = c->ka_timer.data = c;
  opened(c, NX_H_TIMER | NX_H_KA_TIMER);
  c->state = NX_S_RESOLVING;
  if (c->timeout_ms) uv_timer_start(&c->timer, on_timer, c->timeout_ms, 0);
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
    end_with_uv(c, rc);
    return;
  }
  opened(c, NX_H_GAI);
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
      uv_timer_start(&c->timer, on_timer, NX_DISCONNECT_WAIT_MS, 0);
      write_raw(c, b);
      return;
    }
    if (b) {
      free(b->data);
      free(b);
    }
  }
  end_with(c, NULL, NULL, NULL);
}

void nx__conn_abort(nx_conn *c) {
  if (c->state == 0) {
    free_conn(c); /* never started */
    return;
  }
  begin_close(c);
}
