/* The worker against the scripted server: a session, failures to open,
 * undecodable payloads, keepalive and backpressure. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "fixtures.h"
#include "harness.h"
#include "nx.h"
#include "scripted_server.h"
#include "tests.h"

/* A PING (request `req_id`) on connection `conn`. */
static void send_ping(nx_worker *w, uint32_t conn, uint32_t req_id) {
  msgpack_sbuffer sb;
  nx_encode_empty(&sb, NX_MSG_PING);
  size_t len = sb.size;
  nx_worker_send(w, conn, req_id, msgpack_sbuffer_release(&sb), len);
}

void test_worker_session(void) {
  rig r;
  nx_conn_opts o = rig_start(&r, SRV_NORMAL, 0);
  sink *s = r.s;
  nx_worker *w = r.w;
  CHECK(w != NULL, "worker starts");
  CHECK(nx_worker_open(w, 1, &o) == 0, "open queued");
  /* Sent before the handshake completes: waits for it, answered in order. */
  send_ping(w, 1, 41);
  send_ping(w, 1, 42);
  int n = wait_items(s, 4);
  CHECK(n == 4, "open, event, two replies (got %d)", n);
  if (n >= 4) {
    CHECK(s->items[0].kind == NX_EV_OPEN && s->items[0].conn_id == 1, "first item is OPEN");
    CHECK(s->items[1].kind == NX_EV_CHANGE, "then the event");
    uint8_t ev[256];
    unhex(DELETE_EVENT, ev);
    uint32_t payload = (uint32_t)ev[8] << 24 | (uint32_t)ev[9] << 16 | (uint32_t)ev[10] << 8 | ev[11];
    CHECK(s->items[1].bytes == payload, "a change item's bytes are its payload's size (%u, want %u)", s->items[1].bytes, payload);
    CHECK(s->items[2].kind == NX_EV_REPLY && s->items[2].req_id == 41 && s->items[2].msg_type == NX_MSG_PONG, "reply to 41 first");
    CHECK(s->items[3].kind == NX_EV_REPLY && s->items[3].req_id == 42, "then reply to 42");
  }
  nx_worker_close(w, 1, 1);
  n = wait_items(s, 5);
  CHECK(n == 5 && s->items[4].kind == NX_EV_CLOSED && s->codes[4][0] == 0, "graceful close ends with a clean CLOSED");
  rig_stop(&r);
  CHECK(r.sv.got_disconnect, "the server received DISCONNECT");
}

static void expect_open_failure(srv_mode mode, const char *code, const char *msg_part) {
  rig r;
  nx_conn_opts o = rig_start(&r, mode, 0);
  sink *s = r.s;
  nx_worker *w = r.w;
  if (mode == SRV_SILENT) o.connect_timeout_ms = 200;
  nx_worker_open(w, 9, &o);
  int want = mode == SRV_BAD_MAGIC ? 2 : 1;
  int n = wait_items(s, want);
  nx_item *it = n >= want ? &s->items[want - 1] : NULL;
  /* What the owner shows (lib/errors.js fromCore): the answer's text, when it has one, else the message. */
  const char *shown = n < want ? "-" : s->tape_texts[want - 1][0] ? s->tape_texts[want - 1] : s->messages[want - 1];
  CHECK(it && it->kind == (mode == SRV_BAD_MAGIC ? NX_EV_CLOSED : NX_EV_OPEN_FAILED) && strcmp(s->codes[want - 1], code) == 0 &&
            strstr(shown, msg_part),
        "mode %d fails with %s (got %s: %s)", mode, code, n >= want ? s->codes[want - 1] : "-", shown);
  rig_stop(&r);
}

void test_worker_failures(void) {
  expect_open_failure(SRV_BAD_PASSWORD, "NEXA_AUTH", "Invalid username or password");
  expect_open_failure(SRV_SILENT, "ETIMEDOUT", "200 ms");
  expect_open_failure(SRV_BAD_MAGIC, "NEXA_PROTOCOL", "magic");

  /* A read that takes a bounded stream past its bound, then breaks: the
   * events and the end are reported, no pause of a connection that ended. */
  {
    rig r;
    nx_conn_opts o = rig_start(&r, SRV_BAD_MAGIC, 8);
    o.hwm_events = 3;
    nx_worker_open(r.w, 12, &o);
    int n = wait_items(r.s, 10);
    CHECK(n == 10 && r.s->items[0].kind == NX_EV_OPEN && r.s->changes == 8 && r.s->items[9].kind == NX_EV_CLOSED &&
              strcmp(r.s->codes[9], "NEXA_PROTOCOL") == 0,
          "open, 8 events, then the protocol error (%d items, %d events)", n, r.s->changes);
    CHECK(r.s->pauses == 0, "no pause is reported for the connection that ended (%d)", r.s->pauses);
    rig_stop(&r);
  }

  /* A port with nobody listening. */
  uint16_t port;
  int fd = listen_any(&port);
  close(fd);
  sink *s = sink_new();
  nx_worker *w = nx_worker_new(deliver, s);
  nx_conn_opts o = opts_for(port);
  nx_worker_open(w, 2, &o);
  int n = wait_items(s, 1);
  CHECK(n == 1 && s->items[0].kind == NX_EV_OPEN_FAILED && strcmp(s->codes[0], "ECONNREFUSED") == 0, "refused: %s", n ? s->codes[0] : "-");
  /* A name that does not resolve. */
  o.host = "no-such-host.invalid";
  nx_worker_open(w, 3, &o);
  n = wait_items(s, 2);
  CHECK(n == 2 && strcmp(s->codes[1], "ENOTFOUND") == 0, "unresolvable host: %s", n > 1 ? s->codes[1] : "-");
  /* Stopping with a connection mid-connect and commands queued. */
  o.host = "localhost";
  nx_worker_open(w, 4, &o);
  nx_worker_close(w, 99, 1);
  nx_worker_free(w);
  CHECK(1, "worker stops with work pending");
  sink_free(s);
}

/* A well-framed payload that cannot be decoded fails only itself: the
 * event becomes an UNDECODABLE item, the answer a REPLY_FAILED for its
 * request, and the connection reads on. */
void test_undecodable_payloads(void) {
  rig r;
  nx_conn_opts o = rig_start(&r, SRV_TOO_DEEP, 0);
  sink *s = r.s;
  nx_worker *w = r.w;
  o.hwm_events = 3; /* counting the undecodable event would pause reading before the answers */
  nx_worker_open(w, 1, &o);
  send_ping(w, 1, 51);
  send_ping(w, 1, 52);
  int n = wait_items(s, 6);
  CHECK(n == 6, "open, event, undecodable, event, two replies (got %d)", n);
  if (n >= 6) {
    CHECK(s->items[1].kind == NX_EV_CHANGE && s->items[3].kind == NX_EV_CHANGE, "the good events arrive");
    CHECK(s->items[2].kind == NX_EV_UNDECODABLE && s->items[2].conn_id == 1 && strcmp(s->codes[2], "NEXA_PROTOCOL") == 0 &&
              strstr(s->messages[2], "could not decode a change event (") &&
              strstr(s->messages[2], "a document nested more than 100 levels deep"),
          "the deep one in between is reported: %s", s->messages[2]);
    CHECK(s->items[4].kind == NX_EV_REPLY_FAILED && s->items[4].req_id == 51 && strstr(s->messages[4], "could not decode the answer") &&
              strstr(s->messages[4], "deep"),
          "the deep answer fails its request: %s", s->messages[4]);
    CHECK(s->items[5].kind == NX_EV_REPLY && s->items[5].req_id == 52 && s->items[5].msg_type == NX_MSG_PONG,
          "the next request is answered on the same connection");
    CHECK(s->changes == 2, "two change events counted (%d)", s->changes);
  }
  nx_worker_close(w, 1, 1);
  n = wait_items(s, 7);
  CHECK(n == 7 && s->items[6].kind == NX_EV_CLOSED && s->codes[6][0] == 0, "then a clean graceful close (%s)", n == 7 ? s->codes[6] : "-");
  rig_stop(&r);
}

void test_keepalive(void) {
  for (srv_mode mode = SRV_SILENT_AFTER_AUTH; mode <= SRV_PINGS_FOR_600MS; mode++) {
    rig r;
    nx_conn_opts o = rig_start(&r, mode, 0);
    sink *s = r.s;
    o.keepalive_ms = 100;
    o.keepalive_timeout_ms = 100;
    nx_worker_open(r.w, 5, &o);
    if (mode == SRV_SILENT_AFTER_AUTH) {
      int n = wait_items(s, 2);
      CHECK(n == 2 && s->items[1].kind == NX_EV_CLOSED && strcmp(s->codes[1], "ETIMEDOUT") == 0 && strstr(s->messages[1], "keepalive"),
            "a silent server is found dead by keepalive (%s: %s)", n > 1 ? s->codes[1] : "-", n > 1 ? s->messages[1] : "-");
    } else {
      usleep(450000);
      int n = wait_items(s, 1);
      CHECK(n == 1 && s->items[0].kind == NX_EV_OPEN, "a server that answers PINGs stays open (%d items)", n);
      CHECK(r.sv.pings >= 2, "an idle connection is PINGed (%d)", r.sv.pings);
    }
    rig_stop(&r);
  }
}

static int changes_now(sink *s) {
  pthread_mutex_lock(&s->mu);
  int n = s->changes;
  pthread_mutex_unlock(&s->mu);
  return n;
}

/* Waits until no change event has arrived for 150 ms (or 5 s); returns the count. */
static int changes_settled(sink *s) {
  int last = -1;
  for (int i = 0; i < 33; i++) {
    int n = changes_now(s);
    if (n == last) return n;
    last = n;
    usleep(150000);
  }
  return last;
}

/* Whether exactly these many pauses and resumes were reported, in turn. */
static int flow_now(sink *s, int pauses, int resumes) {
  pthread_mutex_lock(&s->mu);
  int ok = s->pauses == pauses && s->resumes == resumes && s->flow_out_of_turn == 0;
  pthread_mutex_unlock(&s->mu);
  return ok;
}

/* One read (64 KiB) of the 100-byte event: how far past a bound one read may go. */
#define EVENTS_PER_READ (65536 / 100 + 1)

/* The payload of DELETE_EVENT (what the byte bound counts). */
#define DELETE_PAYLOAD 101

/* A flood of 2,000 events into a connection bounded at `bound` events
 * (hwm_events, or hwm_bytes worth that many): stops at the bound, stays
 * paused until a quarter of it (rounded up) is acknowledged, then resumes. */
static void check_bound(uint32_t id, const char *what, uint32_t hwm_events, size_t hwm_bytes, int bound) {
  enum { FLOOD = 2000 };
  int keep = bound - (bound + 3) / 4; /* reading resumes at this many unacknowledged */
  rig r;
  nx_conn_opts o = rig_start(&r, SRV_FLOOD, FLOOD);
  sink *s = r.s;
  nx_worker *w = r.w;
  o.hwm_events = hwm_events;
  o.hwm_bytes = hwm_bytes;
  nx_worker_open(w, id, &o);
  int n = changes_settled(s);
  CHECK(n >= bound && n <= bound + EVENTS_PER_READ, "%s: reading stops at the bound, one read past it at most (%d)", what, n);
  CHECK(flow_now(s, 1, 0), "%s: the pause is reported (%d paused, %d resumed)", what, s->pauses, s->resumes);
  nx_worker_ack(w, id, (uint32_t)(n - keep - 1)); /* one more than `keep` left */
  int m = changes_settled(s);
  CHECK(m == n, "%s: still paused with %d unacknowledged (%d, then %d)", what, keep + 1, n, m);
  CHECK(flow_now(s, 1, 0), "%s: no resume is reported yet (%d paused, %d resumed)", what, s->pauses, s->resumes);
  nx_worker_ack(w, id, 1);
  m = changes_settled(s);
  CHECK(m > n && m - n <= bound - keep + EVENTS_PER_READ, "%s: resumes at %d unacknowledged, and stops again at the bound (%d, then %d)",
        what, keep, n, m);
  CHECK(flow_now(s, 2, 1), "%s: the resume and the next pause are reported (%d paused, %d resumed)", what, s->pauses, s->resumes);
  for (int i = 0; i < 40 && m < FLOOD; i++) {
    nx_worker_ack(w, id, (uint32_t)FLOOD);
    m = changes_settled(s);
  }
  CHECK(m == FLOOD, "%s: acknowledging everything lets the whole burst through (%d)", what, m);
  pthread_mutex_lock(&s->mu);
  CHECK(s->flow_out_of_turn == 0 && s->resumes >= s->pauses - 1 && s->resumes >= 2,
        "%s: pauses and resumes are reported in turn (%d paused, %d resumed)", what, s->pauses, s->resumes);
  pthread_mutex_unlock(&s->mu);
  nx_worker_close(w, id, 0);
  rig_stop(&r);
}

void test_backpressure(void) {
  /* Unbounded: an 8,000-event burst is handed over a read or two at a time, never held
   * back for the whole loop turn (the main thread works while the worker reads). */
  {
    enum { FLOOD = 8000 };
    rig r;
    nx_conn_opts o = rig_start(&r, SRV_FLOOD, FLOOD);
    sink *s = r.s;
    nx_worker_open(r.w, 7, &o);
    int n = changes_settled(s);
    CHECK(n == FLOOD, "unbounded: every event of the burst arrives (%d)", n);
    CHECK(flow_now(s, 0, 0), "unbounded: never paused (%d paused)", s->pauses);
    CHECK(s->max_batch_changes <= 448,
          "a batch is handed over once it holds 448 items, mid-read (largest %d events, %d batches)",
          s->max_batch_changes, s->batches_with_changes);
    nx_worker_close(r.w, 7, 0);
    rig_stop(&r);
  }
  /* Bounded: reading stops at the bound and resumes once a quarter of it
   * (rounded up) is acknowledged, not before; by events or by bytes. */
  check_bound(8, "highWaterMark 400", 400, 0, 400);
  check_bound(9, "highWaterMark 3", 3, 0, 3);
  check_bound(10, "highWaterMarkBytes 400 events' worth", 0, 400 * DELETE_PAYLOAD, 400);
}
