/* Change events and answers flattened for the main thread. The worker turns
 * each checked payload's bytes into a "tape": int32 ops, float64 numbers,
 * one UTF-8 string buffer holding every string, and bin bytes. Keys, map shapes (key
 * sequences) and short repeated values are interned in tables the worker
 * keeps for the environment's lifetime; a new entry is announced on the tape
 * before its first use (new keys and shapes ahead of the payload's values, a
 * new value right before it), so the JS side mirrors the tables as it reads.
 * Only events' short values are interned: an answer's documents would fill
 * the table with values no event repeats.
 * On the main thread a whole batch then costs a few strings, typed arrays and
 * plain JS.
 *
 * The string buffer is cut into segments of about NX_TAPE_SEG bytes, at event
 * boundaries, and inside an answer before a string once the segment holds
 * that much; each segment becomes one JS string: the strings of an event are
 * slices of its segment, and V8 keeps a slice's whole parent alive, so an
 * event or a document a program keeps must not keep the whole batch's text
 * (or a whole large answer's) with it. */
#ifndef NX_TAPE_H
#define NX_TAPE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The tape's ops: the one list, X(name, value), which makes the enum
 * and the table the binding hands to JS (`constants.tape`, lib/tape.js). */
#define NX_TAPE_OPS(X) \
  X(STR, 1)        /* utf16 offset, utf16 length (in the current segment) */      \
  X(NUM, 2)        /* the next float64 */                                          \
  X(U64, 3)        /* lo, hi: an unsigned integer beyond 32 bits */                \
  X(I64, 4)        /* lo, hi: a negative integer below -2^31 (two's complement) */ \
  X(TRUE, 5)                                                                       \
  X(FALSE, 6)                                                                      \
  X(NULL, 7)                                                                       \
  X(BIN, 8)        /* offset, length (in the bin bytes) */                         \
  X(ARR, 9)        /* n, then n values */                                          \
  X(MAP, 10)       /* shape id, then one value per key of the shape */             \
  X(MAPK, 11)      /* n, then n (key, value) pairs; key: NX_T_KEY or NX_T_STR */   \
  X(KEY, 12)       /* key id */                                                    \
  X(VAL, 13)       /* interned value id */                                         \
  X(NEWKEY, 20)    /* key id, utf16 offset, utf16 length */                        \
  X(NEWSHAPE, 21)  /* shape id, n, n key ids */                                    \
  X(NEWVAL, 22)    /* value id, utf16 offset, utf16 length */                      \
  X(SEG, 23)       /* the next string segment begins (offsets restart at 0) */

enum nx_tape_op {
#define NX_TAPE_ENUM(name, value) NX_T_##name = value,
  NX_TAPE_OPS(NX_TAPE_ENUM)
#undef NX_TAPE_ENUM
};

#define NX_TAPE_MAX_KEY 64       /* longer keys are not interned */
#define NX_TAPE_MAX_VAL 12       /* longer values are not interned (ids are 16) */
#define NX_TAPE_MAX_SHAPE_KEYS 64
#define NX_TAPE_KEYS 16384
#define NX_TAPE_VALS 4096
#define NX_TAPE_SHAPES 4096
#define NX_TAPE_SEG 4096         /* string segments: small events share one until
                                    it holds this much; a larger event has its own;
                                    an answer's begin once one holds this much */

typedef struct nx_tape_tables nx_tape_tables;

typedef struct nx_tape {
  int32_t *ops;
  size_t nops, cap_ops;
  double *nums;
  size_t nnums, cap_nums;
  char *str;        /* UTF-8 */
  size_t nstr, cap_str;
  size_t str16;     /* the current segment's length in UTF-16 units */
  size_t *segs;     /* byte offset in str where each segment after the first begins */
  size_t nsegs, cap_segs;
  uint8_t *bins;
  size_t nbins, cap_bins;
  int non_ascii;    /* str holds a byte >= 0x80 */
  uint32_t values;  /* events and answers on the tape */
} nx_tape;

nx_tape_tables *nx_tape_tables_new(void);
void nx_tape_tables_free(nx_tape_tables *t);

/* What a payload on the tape is: a change event, or an answer (its short
 * values are not interned; its strings may begin new segments). */
typedef enum { NX_TAPE_EVENT, NX_TAPE_ANSWER } nx_tape_payload;

/* Appends one payload to the tape, read straight from its bytes: bytes that
 * nx_check_padded accepted, with NX_DECODE_SLACK readable bytes after them,
 * and the count of elements the check gave (codec.h). 0, or -1 when out of
 * memory: when the tape had no room for the payload, nothing of it was
 * written and the tables go on; when interning failed midway, announcements
 * may be lost and the tables refuse every later payload. */
int nx_tape_append(nx_tape_tables *t, nx_tape *tape, const uint8_t *payload, size_t payload_len, size_t elements,
                   nx_tape_payload what);
/* Empties the tape for the next batch (keeps its memory). */
void nx_tape_reset(nx_tape *tape);
void nx_tape_free(nx_tape *tape);

#ifdef __cplusplus
}
#endif

#endif
