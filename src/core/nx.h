/* nexaclient core: connections to NexaDB servers on one worker thread that
 * runs its own libuv loop. The owner (the N-API binding, or a C test) sends
 * commands from its thread; decoded frames come back in batches through one
 * callback, called on the worker thread, one call per batch. */
#ifndef NX_H
#define NX_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "tape.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a batch's items are: the one list, X(name, value), which makes the
 * enum and the table the binding hands to JS (`constants.item`).
 * UNDECODABLE and REPLY_FAILED: a well-framed payload that cannot be decoded
 * (too deep, not strict MessagePack, ...) fails only itself; the connection
 * reads on; `message` says why. Neither is counted against the high-water
 * mark: acknowledge only CHANGE items (nx_worker_ack).
 * PAUSED and RESUMED: backpressure, decided here alone (nx_conn_opts.hwm_*):
 * the connection stopped reading its socket at the bound, or read on once the
 * owner's acknowledgements freed a quarter of it. Nothing else; a report
 * lost to memory is not retried: it only informs.
 * Payloads (an event, an answer, a refused handshake's answer) are on the
 * batch's tape, in item order: see nx_item.on_tape. */
#define NX_ITEM_KINDS(X)                                                            \
  X(OPEN, 1)         /* handshake done; the CONNECT answer on the tape */           \
  X(OPEN_FAILED, 2)  /* never opened: code + message (+ a refusal on the tape); terminal */ \
  X(REPLY, 3)        /* answer to req_id: msg_type, the answer on the tape */       \
  X(CHANGE, 4)       /* a CHANGE_EVENT: on the batch's tape; `bytes`, its size */   \
  X(CLOSED, 5)       /* closed after OPEN: code NULL when asked for, else why; terminal */ \
  X(UNDECODABLE, 6)  /* a CHANGE_EVENT that could not be decoded */                 \
  X(REPLY_FAILED, 7) /* the answer to req_id could not be decoded */                \
  X(PAUSED, 8)                                                                      \
  X(RESUMED, 9)

typedef enum {
#define NX_ITEM_ENUM(name, value) NX_EV_##name = value,
  NX_ITEM_KINDS(NX_ITEM_ENUM)
#undef NX_ITEM_ENUM
} nx_event_kind;

/* An owner numbers its requests 1..NX_REQ_ID_MAX (nx_worker_send); the ids
 * above are the core's, for requests of its own (DISCONNECT, keepalive PING). */
#define NX_REQ_ID_MAX 0xFFFFFFF0u

typedef struct nx_item {
  uint8_t kind;
  uint8_t msg_type;
  uint32_t conn_id;
  union {
    uint32_t req_id;    /* NX_EV_REPLY, NX_EV_REPLY_FAILED: the request answered */
    uint32_t bytes;     /* NX_EV_CHANGE: its payload's size (for stats and the byte bound) */
  };
  uint8_t on_tape;      /* 1: its payload is the next value on the batch's tape */
  const char *code;     /* static string, or NULL */
  const char *message;  /* in the batch's zone, or NULL */
} nx_item;

/* The strings a batch's items point to live in its zone; free with nx_batch_free. */
typedef struct nx_batch {
  msgpack_zone zone;
  nx_item *items;
  size_t n;
  size_t cap;
  size_t bytes;  /* payload bytes held */
  nx_tape tape;  /* the payload of every item with on_tape, in item order */
} nx_batch;

void nx_batch_free(nx_batch *b);

typedef struct nx_conn_opts {
  const char *host;
  uint16_t port;
  const char *user;
  const char *pass;
  uint32_t connect_timeout_ms; /* DNS + TCP + handshake; 0 = none */
  size_t max_frame;            /* largest payload accepted from the server */
  /* Keepalive: after keepalive_ms without a byte from the server, PING; no
   * byte within keepalive_timeout_ms after that: the connection is dead
   * (ETIMEDOUT). 0 = off. Not while reading is paused. */
  uint32_t keepalive_ms;
  uint32_t keepalive_timeout_ms;
  /* Backpressure: once this many change events (or payload bytes) are
   * delivered and not yet acknowledged (nx_worker_ack), reading stops; it
   * resumes at three quarters. Both are reported (NX_EV_PAUSED/RESUMED).
   * 0 = no bound. */
  uint32_t hwm_events;
  size_t hwm_bytes;
} nx_conn_opts;

typedef struct nx_worker nx_worker;

/* Takes ownership of the batch. Called on the worker thread. */
typedef void (*nx_deliver_fn)(void *ud, nx_batch *batch);

/* Starts the worker thread. Returns NULL on failure. */
nx_worker *nx_worker_new(nx_deliver_fn deliver, void *ud);
/* Closes every connection at once, stops and joins the thread, frees all.
 * No batch is delivered once this has begun. */
void nx_worker_free(nx_worker *w);

/* Commands; safe from any one owner thread. They return 0, or -1 when the
 * command could not be queued (out of memory, worker stopping). */
int nx_worker_open(nx_worker *w, uint32_t conn_id, const nx_conn_opts *opts);
/* Sends a frame built by the owner (header included); takes `frame`
 * (malloc'ed) in every case. Sends made before NX_EV_OPEN wait for it. */
int nx_worker_send(nx_worker *w, uint32_t conn_id, uint32_t req_id, char *frame, size_t len);
/* Done with a batch (any thread, while the worker exists): its memory goes
 * back to the worker for the next batches instead of to the allocator. */
void nx_worker_recycle(nx_worker *w, nx_batch *b);

/* The owner has consumed `events` change events of this connection, oldest
 * first. Report consumption as it happens; when to read on is the core's. */
int nx_worker_ack(nx_worker *w, uint32_t conn_id, uint32_t events);
/* graceful: DISCONNECT, wait for the answer (bounded), then close.
 * Otherwise close at once. Either way one terminal event follows. */
int nx_worker_close(nx_worker *w, uint32_t conn_id, int graceful);

#ifdef __cplusplus
}
#endif

#endif
