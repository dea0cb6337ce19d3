/* The core's internals, shared by worker.c, conn.c, session.c, ingest.c and ring.c;
 * not part of its interface (nx.h). Dependencies run one way:
 * worker -> session.c (a connection's protocol on the open socket)
 * -> conn.c (its life: dialing, handles, the end) -> ingest; the worker also
 * makes and aborts connections in conn.c. What session.c uses of conn.c is
 * listed in conn.h. A lower file reaches a higher one only through a
 * callback the higher one gave it, never by name: conn.c hands the connected
 * socket to session.c (nx__conn_dial); ingest.c asks for an empty batch and
 * hands a full one back through the two the worker gave it (nx__ingest_init). */
#ifndef NX_INTERNAL_H
#define NX_INTERNAL_H

#include <stdlib.h>
#include <uv.h>

#include "nx.h"

typedef struct nx_conn nx_conn;

typedef struct nx_wbuf {
  uv_write_t wr;        /* wr.data is the connection */
  struct nx_wbuf *next;
  uint32_t req_id;
  size_t len;
  char *data;
} nx_wbuf;

/* Frees one send (its `next` is not followed); NULL is fine. */
static inline void nx__wbuf_free(nx_wbuf *b) {
  if (!b) return;
  free(b->data);
  free(b);
}

/* A growable ring of uint32_t (ring.c). */
typedef struct nx_ring {
  uint32_t *slots;
  size_t first;         /* the oldest value's position in slots */
  size_t len, cap;
} nx_ring;

/* A connection's handles and requests, as bits of its live / pending sets. */
enum { NX_H_TIMER = 1, NX_H_KA_TIMER = 2, NX_H_TCP = 4, NX_H_GAI = 8 };

enum nx_conn_state {
  NX_S_RESOLVING = 1,
  NX_S_CONNECTING,
  NX_S_HANDSHAKE,
  NX_S_READY,
  NX_S_DISCONNECTING, /* DISCONNECT sent, waiting for the answer or EOF */
  NX_S_CLOSING        /* handles closing; the terminal event is queued */
};

/* Turns frames into items on the batch being filled (ingest.c). */
typedef struct nx_ingest {
  nx_batch *batch;                 /* being filled */
  nx_batch *(*fresh)(void *ud);    /* an empty batch to fill (the worker's) */
  void (*full)(void *ud);          /* hand the batch over now (nx__ingest_take) */
  void *ud;
  nx_tape_tables *tables;          /* interned keys, shapes, values of change events */
  /* One read buffer (reads run one at a time): 64 KiB lent to libuv, then
   * the frame reader's slack, so that a frame read in place has it too. */
  char rbuf[65536 + NX_FRAME_SLACK];
} nx_ingest;

struct nx_conn {
  uv_loop_t *loop;
  nx_ingest *in;
  uv_buf_t rbuf;        /* ingest.c's read buffer, lent for the connection's life */
  nx_conn **list;       /* the head of the list it is on (the worker's) */
  nx_conn *next;
  uint32_t id;
  int state;
  int opened;           /* NX_EV_OPEN was emitted */
  char *host, *user, *pass;
  uint16_t port;
  uint32_t timeout_ms;
  uv_getaddrinfo_t gai;
  struct addrinfo *ai, *ai_next;
  uv_tcp_t tcp;
  uv_connect_t creq;
  uv_timer_t timer;     /* connect timeout, then the DISCONNECT wait */
  uv_timer_t ka_timer;  /* keepalive */
  unsigned live;        /* NX_H_* handles and requests open and not yet told to close */
  unsigned pending;     /* NX_H_* whose close (or request) callback has yet to run */
  uint32_t ka_ms, ka_timeout_ms;
  uint64_t last_rx;     /* loop time of the last byte received */
  uint64_t ping_at;     /* loop time of the keepalive PING in flight; 0: none */
  uint32_t hwm_events;
  size_t hwm_bytes;
  int paused;           /* reading stopped at the high-water mark */
  nx_ring sizes;        /* payload sizes of unacknowledged events */
  size_t unacked_bytes;
  nx_reader reader;
  nx_ring fifo;         /* request ids awaiting answers */
  nx_wbuf *queued, *queued_tail; /* sends waiting for the handshake */
  void (*connected)(nx_conn *c);  /* session.c's, given to nx__conn_dial */
  nx_batch *end_batch;  /* reserved for the terminal item (nx__conn_end_with) */
};

struct nx_worker {
  uv_loop_t loop;
  uv_thread_t thread;
  uv_async_t async;
  uv_check_t check;
  uv_idle_t idle;
  uv_mutex_t mu;
  struct nx_cmd *cmds, *cmds_tail; /* under mu */
  int stopping;                    /* under mu */
  nx_batch *spare[4];               /* recycled batches, under mu */
  int nspare;                       /* under mu */
  int stopped;                     /* worker thread only */
  nx_deliver_fn deliver;
  void *ud;
  nx_conn *conns;                  /* worker thread only */
  nx_ingest in;                    /* worker thread only */
};

#define NX_FIFO_DISCONNECT UINT32_MAX
#define NX_FIFO_KEEPALIVE (UINT32_MAX - 1)
_Static_assert(NX_FIFO_KEEPALIVE > NX_REQ_ID_MAX, "the core's own request ids lie above the owner's");

/* ring.c. push: 0, or -1 on out of memory; pop: only when len > 0. */
int nx__ring_push(nx_ring *r, uint32_t v);
uint32_t nx__ring_pop(nx_ring *r);
void nx__ring_free(nx_ring *r);

/* ingest.c. add / str return NULL on out of memory. */
int nx__ingest_init(nx_ingest *in, nx_batch *(*fresh)(void *ud), void (*full)(void *ud), void *ud);
void nx__ingest_free(nx_ingest *in);
/* The batch being filled, now the caller's (NULL: none). */
nx_batch *nx__ingest_take(nx_ingest *in);
/* The one read buffer, lent to every connection: reads run one at a time. */
uv_buf_t nx__ingest_read_buf(nx_ingest *in);
/* Hands the batch being filled over (if any); `next` (NULL: none) becomes it. */
void nx__ingest_hand_over(nx_ingest *in, nx_batch *next);
nx_item *nx__batch_add(nx_ingest *in, uint32_t conn_id, uint8_t kind);
const char *nx__batch_str(nx_ingest *in, const char *s);

/* What nx__ingest_frame made of a frame. */
enum {
  NX_INGEST_ADDED = 0,   /* *out: the item, decoded (a change event: onto the tape) */
  NX_INGEST_FAILED_ITEM, /* *out: an event or answer that failed the check, as an item saying so */
  NX_INGEST_BAD,         /* any other kind failed the check: nothing added, err says why */
  NX_INGEST_NOMEM        /* nothing added, err says why */
};
/* A frame's payload as an item of head's kind, conn_id, req_id and msg_type;
 * `p` has NX_FRAME_SLACK readable bytes after `len`, as the frame reader
 * hands it over. A batch already full is handed over first: *out is in the
 * batch being filled until the next frame. */
int nx__ingest_frame(nx_ingest *in, const nx_item *head, const uint8_t *p, size_t len, nx_item **out, char *err,
                     size_t errlen);

/* conn.c: a connection's lifecycle. */
nx_conn *nx__conn_new(uv_loop_t *loop, nx_ingest *in, uint32_t id, const nx_conn_opts *o);
/* Closes at once with no terminal event (worker shutdown). */
void nx__conn_abort(nx_conn *c);

/* session.c: its protocol on the open socket. nx__conn_start puts it on the
 * list (the worker's) and starts it; it leaves the list when it closes. */
void nx__conn_start(nx_conn *c, nx_conn **list);
void nx__conn_send(nx_conn *c, nx_wbuf *b);
void nx__conn_close(nx_conn *c, int graceful);
void nx__conn_ack(nx_conn *c, uint32_t events);

#endif
