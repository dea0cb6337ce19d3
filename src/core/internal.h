/* Shared between worker.c and conn.c; not part of the core's interface. */
#ifndef NX_INTERNAL_H
#define NX_INTERNAL_H

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

enum nx_conn_state {
  NX_S_RESOLVING = 1,
  NX_S_CONNECTING,
  NX_S_HANDSHAKE,
  NX_S_READY,
  NX_S_DISCONNECTING, /* DISCONNECT sent, waiting for the answer or EOF */
  NX_S_CLOSING        /* handles closing; the terminal event is queued */
};

struct nx_conn {
  nx_worker *w;
  nx_conn *next;        /* the worker's list */
  uint32_t id;
  uint8_t conn_flags;
  int state;
  int opened;           /* NX_EV_OPEN was emitted */
  char *host, *user, *pass;
  uint16_t port;
  uint32_t timeout_ms;
  uv_getaddrinfo_t gai;
  int gai_active;
  struct addrinfo *ai, *ai_next;
  uv_tcp_t tcp;
  int tcp_init;
  uv_connect_t creq;
  uv_timer_t timer;     /* connect timeout, then the DISCONNECT wait */
  uv_timer_t ka_timer;  /* keepalive */
  int handles;          /* handles not yet closed */
  uint32_t ka_ms, ka_timeout_ms;
  uint64_t last_rx;     /* loop time of the last byte received */
  uint64_t ping_at;     /* loop time of the keepalive PING in flight; 0: none */
  uint32_t hwm_events;
  size_t hwm_bytes;
  int paused;           /* reading stopped at the high-water mark */
  uint32_t *sizes;      /* payload sizes of unacknowledged events, oldest first */
  size_t sizes_head, sizes_len, sizes_cap;
  size_t unacked_bytes;
  nx_reader reader;
  uint32_t *fifo;       /* request ids awaiting answers, oldest first */
  size_t fifo_head, fifo_len, fifo_cap;
  nx_wbuf *queued, *queued_tail; /* sends waiting for the handshake */
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
  nx_batch *batch;                 /* being filled; worker thread only */
  nx_conn *conns;
  nx_tape_tables *tables;          /* interned keys, shapes, values of change events */
  msgpack_zone ezone;              /* a change event's decoded objects, until it is on the tape */
  char rbuf[65536];                /* one read buffer: reads run one at a time */
};

#define NX_FIFO_DISCONNECT UINT32_MAX
#define NX_FIFO_KEEPALIVE (UINT32_MAX - 1)

/* worker.c: queueing items for the owner. Return NULL / -1 on out of memory. */
nx_item *nx_emit(nx_worker *w, nx_conn *c, uint8_t kind);
const char *nx_emit_str(nx_worker *w, const char *s);
/* Decodes a payload into the item: 0, NX_DECODE_BAD or NX_DECODE_NOMEM. */
int nx_emit_decode(nx_worker *w, nx_item *it, const uint8_t *p, size_t len,
                   char *err, size_t errlen);
void nx_flush_after_read(nx_worker *w);
void nx_conn_unlink(nx_worker *w, nx_conn *c);

/* conn.c */
nx_conn *nx_conn_new(nx_worker *w, uint32_t id, const nx_conn_opts *o);
void nx_conn_start(nx_conn *c);
void nx_conn_send(nx_conn *c, nx_wbuf *b);
void nx_conn_close(nx_conn *c, int graceful);
void nx_conn_ack(nx_conn *c, uint32_t events);
/* Closes at once with no terminal event (worker shutdown). */
void nx_conn_abort(nx_conn *c);

#endif
