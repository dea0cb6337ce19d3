/* Turning frames into items: a batch being filled, each payload checked and
 * flattened from its bytes onto the batch's tape (change events and answers
 * alike), and the one read buffer. The
 * worker supplies empty batches and takes full ones; connections add to the
 * batch through here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "internal.h"

/* A batch is handed over once the loop turn's work is done (check / idle),
 * or when a frame arrives for a batch this full, so that the worker and the
 * main thread overlap instead of taking turns (bench/README.md, "Batch size
 * and resume point", has the measurements). */
#define NX_BATCH_FULL_ITEMS 448
#define NX_BATCH_FULL_BYTES (128u << 10)

/* The check and the tape load short strings 8 bytes at a time: they read
 * events where the frame reader left them, with its slack after them. */
_Static_assert(NX_FRAME_SLACK >= NX_DECODE_SLACK, "a frame leaves the slack the check and the tape read");

int nx__ingest_init(nx_ingest *in, nx_batch *(*fresh)(void *ud), void (*full)(void *ud), void *ud) {
  memset(in, 0, sizeof(*in));
  in->fresh = fresh;
  in->full = full;
  in->ud = ud;
  in->tables = nx_tape_tables_new();
  return in->tables ? 0 : -1;
}

void nx__ingest_free(nx_ingest *in) {
  nx_batch_free(nx__ingest_take(in));
  nx_tape_tables_free(in->tables);
}

nx_batch *nx__ingest_take(nx_ingest *in) {
  nx_batch *b = in->batch;
  in->batch = NULL;
  return b;
}

uv_buf_t nx__ingest_read_buf(nx_ingest *in) {
  return uv_buf_init(in->rbuf, sizeof(in->rbuf) - NX_FRAME_SLACK);
}

void nx__ingest_hand_over(nx_ingest *in, nx_batch *next) {
  if (in->batch) in->full(in->ud);
  in->batch = next;
}

nx_item *nx__batch_add(nx_ingest *in, uint32_t conn_id, uint8_t kind) {
  if (!in->batch) {
    in->batch = in->fresh(in->ud);
    if (!in->batch) return NULL;
  }
  nx_batch *b = in->batch;
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    nx_item *p = realloc(b->items, cap * sizeof(*p));
    if (!p) return NULL;
    b->items = p;
    b->cap = cap;
  }
  nx_item *it = &b->items[b->n++];
  memset(it, 0, sizeof(*it));
  it->kind = kind;
  it->conn_id = conn_id;
  return it;
}

const char *nx__batch_str(nx_ingest *in, const char *s) {
  size_t n = strlen(s);
  char *p = msgpack_zone_malloc(&in->batch->zone, n + 1);
  if (p) memcpy(p, s, n + 1);
  return p;
}

int nx__ingest_frame(nx_ingest *in, const nx_item *head, const uint8_t *p, size_t len, nx_item **out, char *err,
                     size_t errlen) {
  /* Before the item is added: the item the caller gets back is never in a
   * batch already handed over. */
  if (in->batch && (in->batch->n >= NX_BATCH_FULL_ITEMS || in->batch->bytes >= NX_BATCH_FULL_BYTES))
    in->full(in->ud);
  nx_item *it = nx__batch_add(in, head->conn_id, head->kind);
  if (!it) {
    snprintf(err, errlen, "out of memory");
    return NX_INGEST_NOMEM;
  }
  it->msg_type = head->msg_type;
  it->req_id = head->req_id;
  in->batch->bytes += len;
  int event = it->kind == NX_EV_CHANGE;
  if (event) it->bytes = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
  /* Straight onto the batch's tape, off the main thread: checked where the
   * frame reader left the bytes, then read from them (no decoded objects). */
  size_t elements;
  int rc = nx_check_padded(p, len, NX_CHECK_MAP, 0, &elements, err, errlen);
  if (rc == 0) {
    if (nx_tape_append(in->tables, &in->batch->tape, p, len, elements, event ? NX_TAPE_EVENT : NX_TAPE_ANSWER)) {
      snprintf(err, errlen, "out of memory flattening %s", event ? "an event" : "an answer");
      rc = NX_DECODE_NOMEM;
    } else {
      it->on_tape = 1;
    }
  }
  if (rc == NX_DECODE_BAD && (it->kind == NX_EV_CHANGE || it->kind == NX_EV_REPLY)) {
    /* The frame was whole and the stream is in step: only this item fails. */
    char msg[256];
    snprintf(msg, sizeof(msg), "could not decode %s (%zu bytes): %s", event ? "a change event" : "the answer", len, err);
    it->kind = event ? NX_EV_UNDECODABLE : NX_EV_REPLY_FAILED;
    it->code = "NEXA_PROTOCOL";
    it->message = nx__batch_str(in, msg);
    *out = it;
    return NX_INGEST_FAILED_ITEM;
  }
  if (rc) {
    in->batch->n--; /* the item added above */
    return rc == NX_DECODE_BAD ? NX_INGEST_BAD : NX_INGEST_NOMEM;
  }
  *out = it;
  return NX_INGEST_ADDED;
}
