/* What session.c (a connection's protocol on the open socket) uses of conn.c
 * (its life), and nothing else does. One way: session.c calls conn.c;
 * conn.c names nothing of session.c and hands it the connected socket
 * through the callback given to nx__conn_dial, as libuv hands its own. */
#ifndef NX_CONN_H
#define NX_CONN_H

#include "internal.h"

/* Puts the connection on the list (the worker's), resolves and dials; once
 * the socket is connected (state NX_S_HANDSHAKE), calls connected. */
void nx__conn_dial(nx_conn *c, nx_conn **list, void (*connected)(nx_conn *c));
/* Ends the connection with its terminal item (queued, even out of memory),
 * then closes. code NULL: closed as asked. answer: the item of a refused
 * handshake's answer, made the terminal item (its payload on the tape goes
 * with it), or NULL. */
void nx__conn_end_with(nx_conn *c, const char *code, const char *msg, nx_item *answer);
/* nx__conn_end_with for a libuv error, with Node's codes. */
void nx__conn_end_with_uv(nx_conn *c, int status);
/* Frees a chain of sends. */
void nx__wbufs_free(nx_wbuf *b);

#endif
