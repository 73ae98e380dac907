/* The PROXY protocol step of a connection (listen-proxy-proto): before the
 * TLS handshake, the relay's header is read from the socket and the
 * client's address it carries is handed back. It knows no connection: the
 * connection (conn.c) calls it and acts on the answer, closing itself with
 * the reason given. */
#ifndef WG_CONN_PROXY_H
#define WG_CONN_PROXY_H

#include <stddef.h>
#include <stdint.h>

/* The header read so far. Zeroed at first; buf is owned (NULL once done). */
struct wg_proxy_reader {
	uint8_t *buf;
	size_t len;
};

/* What a complete header gave. */
struct wg_proxy_done {
	/* The bytes read past the header (the TLS handshake's start),
	 * malloc'd, for the caller to serve before the socket; NULL when
	 * none. */
	uint8_t *rest;
	size_t rest_len;
};

/* Reads what fd has towards the header. Returns 1 when it is complete:
 * peer (peerlen bytes; the relay's address on entry, for log lines) holds
 * the client's address when the header carried one, *done what follows
 * it, and r's buffer is freed. 0 when more bytes are needed. -1 with the
 * reason in *why (a bad header, an error, the peer left): the caller
 * closes the connection. */
int wg_conn_proxy_read(struct wg_proxy_reader *r, int fd, char *peer, size_t peerlen, struct wg_proxy_done *done,
		       const char **why);

/* Frees what r holds (a connection closed before its header ended). */
void wg_conn_proxy_reader_free(struct wg_proxy_reader *r);

/* With listen-proxy-proto off: -1 with the reason in *why when the
 * connection on fd starts with a PROXY header, which a relay sends to a
 * server it believes is configured for one; 1 when it does not; 0 when
 * nothing has arrived yet. Peeks, consumes nothing. peer is for the log. */
int wg_conn_proxy_unexpected(int fd, const char *peer, const char **why);

#endif
