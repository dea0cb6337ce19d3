/* The bytes the tests feed the core: frames recorded from the reference
 * server, and payloads built to a shape. */
#ifndef NX_TEST_FIXTURES_H
#define NX_TEST_FIXTURES_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "tape.h"

/* Hex text to bytes in `out`; returns how many. */
size_t unhex(const char *h, uint8_t *out);

/* Frames recorded from the reference server (reference-transcripts.json). */
extern const char *const CONNECT_REQ;
extern const char *const CONNECT_OK;
extern const char *const PING_REQ;
extern const char *const PONG;
extern const char *const BAD_PASSWORD;
extern const char *const GOODBYE;
extern const char *const DELETE_EVENT; /* + one stray byte */

/* The value of `key` in a map whose keys are strings (as nx_check
 * requires), or NULL. */
const msgpack_object *map_get(const msgpack_object *m, const char *key);

/* A payload {key: doc} (key NULL: doc alone), doc being `levels` nested
 * one-element arrays around 1, or maps when `maps`; in `out`. */
size_t nested_payload(uint8_t *out, const char *key, int levels, int maps);

/* Tables and a tape, as a worker keeps them, and a payload being packed
 * with pk into sb. tables is NULL when out of memory. */
typedef struct {
  nx_tape_tables *tables;
  nx_tape tape;
  msgpack_sbuffer sb;
  msgpack_packer pk;
} tape_rig;

void tape_rig_init(tape_rig *r);
/* The payload packed so far onto the tape, as the worker puts it (ingest.c):
 * readable slack after it, checked, then written; sb is emptied for the
 * next one. 0 on success. *elements (when not NULL): what the check counted. */
int tape_rig_append(tape_rig *r, nx_tape_payload what, size_t *elements);
void tape_rig_free(tape_rig *r);

#endif
