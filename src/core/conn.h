/* What conn.c (a connection's lifecycle) and session.c (its protocol on the
 * open socket) share, and nothing else does. */
#ifndef NX_CONN_H
#define NX_CONN_H

#include "internal.h"

/* conn.c. Ends the connection with its terminal item (queued), then closes.
 * code NULL: closed as asked. */
void nx__conn_end_with(nx_conn *c, const char *code, const char *msg, const msgpack_object *obj);
/* nx__conn_end_with for a libuv error, with Node's codes. */
void nx__conn_end_with_uv(nx_conn *c, int status);

/* session.c. The socket is connected: reads, and sends CONNECT. */
void nx__conn_handshake(nx_conn *c);
/* Frees the sends waiting for the handshake. */
void nx__conn_drop_queued(nx_conn *c);

#endif
