/* NexaDB framing: a 12-byte header, then one MessagePack payload.
 * The incremental reader accepts bytes in any chunking and never allocates
 * the size a header claims before the bytes have arrived. */
#ifndef NX_FRAME_H
#define NX_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NX_HEADER_SIZE 12
#define NX_MAGIC 0x4E455841u
#define NX_VERSION 1

/* Every message type of the protocol: the one list, X(name, value). It makes
 * the enum below and the table the binding hands to JS (lib/native.js
 * `constants.msg`), so the two cannot differ. */
#define NX_MSG_TYPES(X) \
  X(CONNECT, 0x01) \
  X(CREATE, 0x02) \
  X(READ, 0x03) \
  X(UPDATE, 0x04) \
  X(DELETE, 0x05) \
  X(QUERY, 0x06) \
  X(VECTOR_SEARCH, 0x07) \
  X(BATCH_WRITE, 0x08) \
  X(PING, 0x09) \
  X(DISCONNECT, 0x0A) \
  X(QUERY_TOON, 0x0B) \
  X(EXPORT_TOON, 0x0C) \
  X(IMPORT_TOON, 0x0D) \
  X(CREATE_USER, 0x0E) \
  X(DELETE_USER, 0x0F) \
  X(LIST_USERS, 0x10) \
  X(CHANGE_PASSWORD, 0x11) \
  X(LIST_COLLECTIONS, 0x20) \
  X(DROP_COLLECTION, 0x21) \
  X(GET_VECTORS, 0x23) \
  X(SUBSCRIBE_CHANGES, 0x30) \
  X(UNSUBSCRIBE_CHANGES, 0x31) \
  X(LIST_DATABASES, 0x40) \
  X(DROP_DATABASE, 0x42) \
  X(BUILD_HNSW_INDEX, 0x45) \
  X(SUCCESS, 0x81) \
  X(ERROR, 0x82) \
  X(NOT_FOUND, 0x83) \
  X(DUPLICATE, 0x84) \
  X(STREAM_START, 0x85) \
  X(STREAM_CHUNK, 0x86) \
  X(STREAM_END, 0x87) \
  X(PONG, 0x88) \
  X(CHANGE_EVENT, 0x90)

enum nx_msg_type {
#define NX_MSG_ENUM(name, value) NX_MSG_##name = value,
  NX_MSG_TYPES(NX_MSG_ENUM)
#undef NX_MSG_ENUM
};

/* Writes a header for a payload of `len` bytes. */
void nx_frame_header(uint8_t out[NX_HEADER_SIZE], uint8_t type, uint32_t len);

/* Readable bytes after every payload handed to the callback, when the
 * chunks fed have as many after their end: a reader of the payload may load
 * a short string 8 bytes at a time without copying it first. A payload kept
 * by the reader (split across chunks) has them zeroed; one handed over in
 * place is followed by whatever the chunk's buffer holds there. */
#define NX_FRAME_SLACK 16

/* Called once per complete frame. `payload` is valid only during the call,
 * with NX_FRAME_SLACK readable bytes after it (above).
 * Return 0 to go on, non-zero to stop feeding (the value is returned by feed). */
typedef int (*nx_frame_cb)(void *ud, uint8_t type, uint16_t flags,
                           const uint8_t *payload, size_t len);

typedef struct nx_reader {
  uint8_t hdr[NX_HEADER_SIZE];
  size_t hdr_have;
  uint8_t type;
  uint16_t flags;
  uint32_t len;       /* payload length of the frame being read */
  uint8_t *buf;       /* partial payload, grown as bytes arrive */
  size_t have;
  size_t cap;
  size_t max_frame;   /* largest payload accepted */
  int failed;         /* set once a protocol error was seen: the stream is dead */
  char error[96];
} nx_reader;

void nx_reader_init(nx_reader *r, size_t max_frame);
void nx_reader_free(nx_reader *r);

#define NX_READ_OK 0
#define NX_READ_PROTO (-1) /* bad header or oversize frame: see r->error */
#define NX_READ_NOMEM (-2)

/* Feeds bytes. Calls `cb` for each complete frame, in order. Returns
 * NX_READ_OK, NX_READ_PROTO / NX_READ_NOMEM (the reader is then dead), or
 * the callback's non-zero value (feeding stops after that frame). */
int nx_reader_feed(nx_reader *r, const uint8_t *data, size_t n,
                   nx_frame_cb cb, void *ud);

#ifdef __cplusplus
}
#endif

#endif
