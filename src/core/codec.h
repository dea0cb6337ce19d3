/* MessagePack side of the protocol: a strict structural check of untrusted
 * payloads, decoding into caller-owned zones, and the few requests the core
 * sends on its own (CONNECT, DISCONNECT, PING). */
#ifndef NX_CODEC_H
#define NX_CODEC_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Documents nest at most this many levels of maps and arrays: `{}` is one
 * level, `{a: [1]}` two. The one bound for what the client sends
 * (lib/encode.js) and what it reads (nx_check): anything it
 * writes, it can read back, whatever the server wraps around it. */
#define NX_MAX_DOC_DEPTH 100

/* The levels a payload puts above the documents under this key of its root
 * map: 1 for `{document: doc}`, `{fullDocument: doc}`, `{data: doc}`,
 * `{updates: doc}`; 2 for `{documents: [doc]}`, `{updateDescription:
 * {updatedFields: doc}}`, `{filters: doc}` (an operator may wrap a value);
 * 3 for `{results: [{document: doc}]}`; 1 for any other key. A value under
 * the key may then reach level NX_MAX_DOC_DEPTH + that (the root map is
 * level 1). */
uint32_t nx_doc_envelope(const char *key, size_t len);
/* The keys above that are not 1, X(key, levels): one list, which makes
 * nx_doc_envelope and the table the binding hands to JS (`constants.docEnvelope`,
 * lib/encode.js). */
#define NX_DOC_ENVELOPES(X) \
  X(documents, 2)           \
  X(updateDescription, 2)   \
  X(filters, 2)             \
  X(results, 3)

#define NX_CHECK_MAP 1 /* the top-level value must be a map */

/* Walks a payload without allocating (but for nesting beyond what the
 * document rule allows). Rejects: truncated or trailing bytes, container
 * counts the remaining bytes cannot hold, ext types, the reserved byte 0xc1,
 * non-string map keys, invalid UTF-8 in strings, and nesting: max_levels 0
 * applies the document rule (NX_MAX_DOC_DEPTH under nx_doc_envelope), any
 * other value bounds the levels of the whole payload. Returns 0, or -1 with
 * a reason in err. */
int nx_check_levels(const uint8_t *p, size_t len, int flags, uint32_t max_levels, char *err, size_t errlen);
/* nx_check_levels under the document rule. */
int nx_check(const uint8_t *p, size_t len, int flags, char *err, size_t errlen);

/* Bytes readable after a payload the check or the tape reads (of any value:
 * zeros in nx_decode_levels' copies, the frame reader's slack for a payload
 * read in place): a string can be loaded 8 bytes at a time, masked, without
 * reading out of bounds. */
#define NX_DECODE_SLACK 16

/* The big-endian unsigned integer of n <= 8 bytes at p: MessagePack's
 * lengths, counts and numbers. */
static inline uint64_t nx__be(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = (v << 8) | p[i];
  return v;
}

#define NX_DECODE_BAD (-1)   /* the payload is refused: err says why */
#define NX_DECODE_NOMEM (-2) /* out of memory */

/* nx_check_levels without the copy: `p` has NX_DECODE_SLACK readable bytes
 * after `len` (the walk loads short strings 8 bytes at a time). Returns 0,
 * NX_DECODE_BAD or NX_DECODE_NOMEM. *elements (when not NULL): how many
 * values and keys the payload holds, the root included (the tape's room). */
int nx_check_padded(const uint8_t *p, size_t len, int flags, uint32_t max_levels, size_t *elements, char *err, size_t errlen);

/* The walks (check, decode) keep one entry a level: on the C stack up to
 * what the document rule needs, on the heap beyond (a plain bound, as the dev
 * server asks for). They grow with the levels met, never with the levels a
 * payload claims. nx__grow_stack returns a copy of st (inline_st or malloc'ed)
 * with twice the capacity, freeing st unless inline; NULL (st kept) when out
 * of memory. */
#define NX_STACK_INLINE (NX_MAX_DOC_DEPTH + 8)
void *nx__grow_stack(void *st, const void *inline_st, size_t *cap, size_t elem);

/* Checks the payload (nx_check_levels), copies it into `zone` and decodes
 * it there, at any depth the check allows (not msgpack-c's unpacker, whose
 * stack is 32 levels): the object's strings point into the zone, which owns
 * everything. Returns 0, NX_DECODE_BAD or NX_DECODE_NOMEM, with err set.
 * The binding's decode() (the dev server's requests, tests); what arrives on
 * a connection goes onto the tape instead (tape.h). */
int nx_decode_levels(msgpack_zone *zone, const uint8_t *payload, size_t len, int flags, uint32_t max_levels,
                     msgpack_object *out, char *err, size_t errlen);
/* nx_decode_levels under the document rule. */
int nx_decode(msgpack_zone *zone, const uint8_t *payload, size_t len, int flags,
              msgpack_object *out, char *err, size_t errlen);

/* Frames are built in place in an sbuffer: begin reserves the header,
 * finish writes it once the payload length is known. */
int nx_frame_begin(msgpack_sbuffer *sb);
int nx_frame_finish(msgpack_sbuffer *sb, uint8_t type);

int nx_encode_connect(msgpack_sbuffer *sb, const char *user, size_t ulen,
                      const char *pass, size_t plen);
/* A request whose payload is the empty map (PING, DISCONNECT, UNSUBSCRIBE). */
int nx_encode_empty(msgpack_sbuffer *sb, uint8_t type);

#ifdef __cplusplus
}
#endif

#endif
