/* The interning tables (intern.h): hashing, lookups, and adding keys, short
 * values and shapes. */
#include "intern.h"

#include <stdlib.h>
#include <string.h>

/* A string of at most 16 bytes as two zero-padded words. Strings come from
 * checked payloads with NX_DECODE_SLACK readable bytes after them (tape.h):
 * two unaligned loads, masked, whatever the length. */
static inline void words16(const char *s, size_t n, uint64_t w[2]) {
  uint64_t a, b;
  memcpy(&a, s, 8);
  memcpy(&b, s + 8, 8);
  w[0] = n >= 8 ? a : a & ((1ull << (8 * n)) - 1);
  w[1] = n >= 16 ? b : n > 8 ? b & ((1ull << (8 * (n - 8))) - 1) : 0;
}

/* Keys and short values are hashed once per occurrence in every event:
 * eight bytes a step. */
static uint32_t hash_bytes(const char *s, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  }
  if (i < n) {
    uint64_t w = 0;
    memcpy(&w, s + i, n - i);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
  }
  h ^= h >> 29;
  return (uint32_t)h;
}

static inline uint32_t hash_words(const uint64_t w[2], size_t n) {
  uint64_t h = (w[0] ^ (0x9E3779B97F4A7C15ull * (n + 1))) * 0xFF51AFD7ED558CCDull;
  h = (h ^ (h >> 32) ^ w[1]) * 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 29;
  return (uint32_t)h;
}

static int str_table_init(str_table *t, uint32_t limit) {
  t->cap = 1;
  while (t->cap < (size_t)limit * 2) t->cap <<= 1;
  t->slots = calloc(t->cap, sizeof(str_slot));
  if (!t->slots) return -1;
  for (size_t i = 0; i < t->cap; i++) t->slots[i].id = UINT32_MAX;
  t->n = 0;
  t->limit = limit;
  return 0;
}

static void str_table_free(str_table *t) {
  if (!t->slots) return;
  for (size_t i = 0; i < t->cap; i++) free(t->slots[i].bytes);  /* NULL for short ones */
  free(t->slots);
  t->slots = NULL;
}

int nx__intern_str(str_table *t, const char *s, size_t n, uint32_t *id, int *added) {
  uint64_t w[2] = {0, 0};
  int small = n <= 16;
  uint32_t h;
  if (small) {
    words16(s, n, w);
    h = hash_words(w, n);
  } else {
    h = hash_bytes(s, n);
  }
  size_t mask = t->cap - 1;
  *added = 0;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    str_slot *e = &t->slots[i];
    if (e->id == UINT32_MAX) {
      if (t->n >= t->limit) {
        *id = UINT32_MAX;
        return 0;
      }
      if (!small) {
        e->bytes = malloc(n);
        if (!e->bytes) return -1;
        memcpy(e->bytes, s, n);
      }
      e->w[0] = w[0];
      e->w[1] = w[1];
      e->len = (uint32_t)n;
      e->hash = h;
      e->id = t->n++;
      *id = e->id;
      *added = 1;
      return 0;
    }
    if (e->hash == h && e->len == n &&
        (small ? (e->w[0] == w[0] && e->w[1] == w[1]) : memcmp(e->bytes, s, n) == 0)) {
      *id = e->id;
      return 0;
    }
  }
}

nx_tape_tables *nx_tape_tables_new(void) {
  nx_tape_tables *t = calloc(1, sizeof(*t));
  if (!t) return NULL;
  t->shapes_cap = 1;
  while (t->shapes_cap < (size_t)NX_TAPE_SHAPES * 2) t->shapes_cap <<= 1;
  t->shapes = calloc(t->shapes_cap, sizeof(shape_slot));
  if (!t->shapes || str_table_init(&t->keys, NX_TAPE_KEYS) || str_table_init(&t->vals, NX_TAPE_VALS)) {
    nx_tape_tables_free(t);
    return NULL;
  }
  for (size_t i = 0; i < t->shapes_cap; i++) t->shapes[i].id = UINT32_MAX;
  return t;
}

void nx_tape_tables_free(nx_tape_tables *t) {
  if (!t) return;
  str_table_free(&t->keys);
  str_table_free(&t->vals);
  free(t->map_shapes);
  if (t->shapes) {
    for (size_t i = 0; i < t->shapes_cap; i++) {
      free(t->shapes[i].keys);
      free(t->shapes[i].words);
    }
    free(t->shapes);
  }
  free(t);
}

static uint32_t hash_ids(const uint32_t *ids, uint32_t n) {
  uint32_t h = 2166136261u;
  for (uint32_t i = 0; i < n; i++) h = (h ^ ids[i]) * 16777619u;
  return h ^ n;
}

/* The keys as (len, w0, w1) triples, for the speculative match; NULL when a
 * key is longer than 16 bytes. */
static uint64_t *key_words(const nx__key *keys, uint32_t n) {
  uint64_t *w = malloc((size_t)n * 3 * sizeof(uint64_t) + 1);
  if (!w) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    if (keys[i].len > 16) {
      free(w);
      return NULL;
    }
    w[3 * i] = keys[i].len;
    words16(keys[i].ptr, keys[i].len, &w[3 * i + 1]);
  }
  return w;
}

int nx__intern_shape(nx_tape_tables *t, const uint32_t *ids, uint32_t n, const nx__key *keys, uint32_t *id, int *added) {
  uint32_t h = hash_ids(ids, n);
  size_t mask = t->shapes_cap - 1;
  *added = 0;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    shape_slot *e = &t->shapes[i];
    if (e->id == UINT32_MAX) {
      if (t->nshapes >= NX_TAPE_SHAPES) {
        *id = UINT32_MAX;
        return 0;
      }
      e->keys = malloc((n ? n : 1) * sizeof(uint32_t));
      if (!e->keys) return -1;
      if (n) memcpy(e->keys, ids, n * sizeof(uint32_t));
      e->words = key_words(keys, n); /* NULL: no fast match for this shape, still correct */
      e->n = n;
      e->hash = h;
      e->id = t->nshapes++;
      *id = e->id;
      if (n <= NX_TAPE_MAX_SHAPE_KEYS) t->hint[n] = e;
      *added = 1;
      return 0;
    }
    if (e->hash == h && e->n == n && memcmp(e->keys, ids, n * sizeof(uint32_t)) == 0) {
      *id = e->id;
      if (n <= NX_TAPE_MAX_SHAPE_KEYS) t->hint[n] = e;
      return 0;
    }
  }
}

uint32_t nx__intern_hinted_shape(const nx_tape_tables *t, const nx__key *keys, uint32_t n) {
  const shape_slot *e = n <= NX_TAPE_MAX_SHAPE_KEYS ? t->hint[n] : NULL; /* hint[n]: n keys */
  if (!e || !e->words) return UINT32_MAX;
  for (uint32_t i = 0; i < n; i++) {
    const uint64_t *w = &e->words[3 * i];
    if (w[0] != keys[i].len) return UINT32_MAX;
    uint64_t kw[2];
    words16(keys[i].ptr, keys[i].len, kw);
    if (kw[0] != w[1] || kw[1] != w[2]) return UINT32_MAX;
  }
  return e->id;
}
