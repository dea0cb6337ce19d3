/* The bytes the tests feed the core: frames recorded from the reference
 * server, and payloads built to a shape. */
#ifndef NX_TEST_FIXTURES_H
#define NX_TEST_FIXTURES_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
