/* The interning tables behind nx_tape_tables (tape.h): keys, short values and
 * map shapes (key sequences) to ids, kept for the environment's lifetime.
 * intern.c fills them; tape.c looks values up and announces on the tape what
 * was added, so the JS mirror stays in step. */
#ifndef NX_INTERN_H
#define NX_INTERN_H

#include "tape.h"

/* String -> id, for keys and short values. Open addressing; entries are
 * never removed (ids must stay valid for the JS mirror). */
typedef struct {
  uint32_t hash;
  uint32_t id;   /* UINT32_MAX: empty */
  uint32_t len;
  uint64_t w[2]; /* the bytes, zero-padded, when len <= 16: compared as two words */
  char *bytes;   /* longer strings */
} str_slot;

typedef struct {
  str_slot *slots;
  size_t cap;    /* power of two, at least twice the limit */
  uint32_t n;
  uint32_t limit;
} str_table;

typedef struct {
  uint32_t hash;
  uint32_t id;   /* UINT32_MAX: empty */
  uint32_t n;
  uint32_t *keys;
  uint64_t *words; /* per key: len, w0, w1 (all keys <= 16 bytes), else NULL */
} shape_slot;

struct nx_tape_tables {
  str_table keys, vals;
  shape_slot *shapes;
  size_t shapes_cap;
  uint32_t nshapes;
  /* The shape last used by a map of each size (index: size, up to 64): maps
   * of a stream repeat, so it is tried first, key by key, before hashing. */
  shape_slot *hint[NX_TAPE_MAX_SHAPE_KEYS + 1];
  int broken;    /* an allocation failed: the JS mirror may be out of step */
  /* The payload being written (tape.c): what it is, and its maps' shapes, in
   * the order the maps begin, found by the first pass and read by the second. */
  nx_tape_payload writing;
  uint32_t *map_shapes;
  size_t nmap_shapes, cap_map_shapes, next_map;
};

/* A map's key: its bytes, in a payload with NX_DECODE_SLACK readable bytes
 * after it. */
typedef struct {
  const char *ptr;
  uint32_t len;
} nx__key;

/* The id of s; *added when it was new. UINT32_MAX when the table is full
 * and s is not in it. -1 only on out of memory. */
int nx__intern_str(str_table *t, const char *s, size_t n, uint32_t *id, int *added);
/* The id of a key sequence, the ids of `keys`; *added when it was new. Found or
 * added, it is now the hint for maps of its size. UINT32_MAX when the table is full.
 * -1 only on out of memory. */
int nx__intern_shape(nx_tape_tables *t, const uint32_t *ids, uint32_t n, const nx__key *keys, uint32_t *id, int *added);

/* The shape last used by a map of n keys (the hint), when `keys` are exactly
 * its keys: tried first on every map, before any hashing. Else UINT32_MAX. */
uint32_t nx__intern_hinted_shape(const nx_tape_tables *t, const nx__key *keys, uint32_t n);

#endif
