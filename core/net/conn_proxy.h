/* The PROXY protocol step of a connection (listen-proxy-proto): before the
 * TLS handshake, the relay's header is read and the client's address it
 * carries replaces the relay's in c->peer. */
#ifndef WG_CONN_PROXY_H
#define WG_CONN_PROXY_H

#include <stdbool.h>

struct wg_conn;

/* Reads what the socket has towards the header. Returns 1 when the header
 * is complete (c->peer is the client's address; bytes read past the header
 * wait in c->rx_stash for the TLS handshake), 0 when more bytes are needed,
 * -1 after closing c (a bad header, an error, the peer left). */
int wg_conn_proxy_read(struct wg_conn *c);

/* With listen-proxy-proto off: -1 (after closing c with the reason) when
 * the connection starts with a PROXY header, which a relay sends to a
 * server it believes is configured for one; 1 when it does not; 0 when
 * nothing has arrived yet. Peeks, consumes nothing. */
int wg_conn_proxy_unexpected(struct wg_conn *c);

#endif
