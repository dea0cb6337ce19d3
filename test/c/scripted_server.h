/* A scripted server on a thread of its own, speaking the protocol as each
 * test needs, and the sink a worker delivers its items to. */
#ifndef NX_TEST_SCRIPTED_SERVER_H
#define NX_TEST_SCRIPTED_SERVER_H

#include <pthread.h>
#include <stdint.h>

#include "nx.h"

/* What a worker delivered: the first 64 items, and counts over all of them. */
typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  nx_item items[64];
  char codes[64][32];
  char messages[64][160];
  char tape_texts[64][160]; /* a refused handshake's terminal item: the batch tape's strings, else "" */
  int n;
  int changes;           /* every CHANGE item, also past the 64 kept */
  int batches_with_changes;
  int max_batch_changes;
  int pauses, resumes;   /* NX_EV_PAUSED / NX_EV_RESUMED items */
  int flow_out_of_turn;  /* a pause after a pause, or a resume not after a pause */
} sink;

/* What the scripted server does. */
typedef enum {
  SRV_NORMAL,            /* answers as the reference server does */
  SRV_BAD_PASSWORD,      /* refuses the credentials */
  SRV_SILENT,            /* accepts the connection, never answers */
  SRV_BAD_MAGIC,         /* authenticates, then `flood` events and a frame with a bad magic, in one write */
  SRV_SILENT_AFTER_AUTH, /* authenticates, then never answers */
  SRV_PINGS_FOR_600MS,   /* authenticates, answers PINGs for 600 ms, then goes quiet */
  SRV_FLOOD,             /* `flood` events in one write, then waits for the close */
  SRV_TOO_DEEP           /* an event, one nested too deeply, an event; then answers the
                            first PING too deeply, the next ones properly */
} srv_mode;

typedef struct {
  int lfd;
  int flood; /* SRV_FLOOD, SRV_BAD_MAGIC: how many events */
  srv_mode mode;
  int pings;
  int got_disconnect;
} server;

/* A scripted server on a thread of its own, a worker and the sink it
 * delivers to; rig_start returns the options that reach the server. */
typedef struct {
  server sv;
  pthread_t th;
  sink *s;
  nx_worker *w;
} rig;

/* The worker's delivery callback: copies each batch into the sink `ud`. */
void deliver(void *ud, nx_batch *b);
/* Waits until `count` items arrived (or 5 s). */
int wait_items(sink *s, int count);
sink *sink_new(void);
void sink_free(sink *s);
/* A socket listening on a free loopback port, written to `port`. */
int listen_any(uint16_t *port);
/* Options for a worker to reach `port` on localhost as root. */
nx_conn_opts opts_for(uint16_t port);
nx_conn_opts rig_start(rig *r, srv_mode mode, int flood);
/* Waits for the server's thread to end, then frees the rest. */
void rig_stop(rig *r);

#endif
