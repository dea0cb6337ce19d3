/* A growable ring of uint32_t: a connection's request ids awaiting answers,
 * and the payload sizes of its unacknowledged events. */
#include <stdlib.h>

#include "internal.h"

int nx__ring_push(nx_ring *r, uint32_t value) {
  if (r->len == r->cap) {
    /* The capacity stays a power of two: positions wrap with a mask. */
    size_t cap = r->cap ? r->cap * 2 : 16;
    uint32_t *p = malloc(cap * sizeof(*p));
    if (!p) return -1;
    for (size_t i = 0; i < r->len; i++) p[i] = r->slots[(r->first + i) & (r->cap - 1)];
    free(r->slots);
    r->slots = p;
    r->cap = cap;
    r->first = 0;
  }
  r->slots[(r->first + r->len) & (r->cap - 1)] = value;
  r->len++;
  return 0;
}

uint32_t nx__ring_pop(nx_ring *r) {
  uint32_t value = r->slots[r->first];
  r->first = (r->first + 1) & (r->cap - 1);
  r->len--;
  return value;
}

void nx__ring_free(nx_ring *r) {
  free(r->slots);
  r->slots = NULL;
  r->first = r->len = r->cap = 0;
}
