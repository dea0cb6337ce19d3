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

/* Deepest nesting of containers accepted; msgpack-c's own stack allows 32. */
#define NX_MAX_DEPTH 32

#define NX_CHECK_MAP 1 /* the top-level value must be a map */

/* Walks a payload without allocating. Rejects: truncated or trailing bytes,
 * container counts the remaining bytes cannot hold, nesting beyond
 * NX_MAX_DEPTH, ext types, the reserved byte 0xc1, non-string map keys and
 * invalid UTF-8 in strings. Returns 0, or -1 with a reason in err. */
int nx_check(const uint8_t *p, size_t len, int flags, char *err, size_t errlen);

/* Bytes readable (zeros) after a decoded payload: a string of the object
 * can be loaded 8 bytes at a time without reading out of bounds. */
#define NX_DECODE_SLACK 16

/* Checks the payload, copies it into `zone` and decodes it there: the
 * object's strings point into the zone, which owns everything. */
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
