/* Reading a connection's ClientHello before the TLS context is chosen
 * (several server names on one port, docs/config.md "vhosts"): the bytes
 * are kept and handed to wolfSSL afterwards, as the PROXY reader does with
 * the bytes after its header. Works on the socket and the connection's
 * stash of bytes read ahead; knows nothing of the connection, which acts
 * on the answer (closes it, picks the context). */
#ifndef WG_CONN_SNI_H
#define WG_CONN_SNI_H

#include <stddef.h>
#include <stdint.h>

/* The record read so far (buf owned; NULL before the first read and once
 * it is handed back). */
struct wg_sni_reader {
	uint8_t *buf;
	size_t len;
};

/* Bytes read ahead of wolfSSL (a PROXY header's leftovers), served
 * before the socket: the connection's rx_stash. */
struct wg_sni_stash {
	uint8_t **buf;
	size_t *off, *len;
};

/* Reads what the client on fd sent so far. Returns 1 when the first TLS
 * record is complete (name: its server name, "" when none; every byte
 * read now waits in the stash for wolfSSL), 0 when more must come, -1
 * with the reason in *why (the connection is to be closed). */
int wg_sni_read(struct wg_sni_reader *r, int fd, struct wg_sni_stash st, char *name, size_t namelen,
		const char **why);
/* Frees what r holds (a connection closed before its ClientHello ended). */
void wg_sni_reader_free(struct wg_sni_reader *r);
/* Sends a TLS alert unrecognized_name on fd and logs the refusal of the
 * client peer; the caller closes the connection. */
void wg_sni_refuse(int fd, const char *peer, const char *name);

#endif
