/* Reading a connection's ClientHello before the TLS context is chosen
 * (several server names on one port, docs/config.md "vhosts"): the bytes
 * are kept and handed to wolfSSL afterwards, as conn_proxy.c does with
 * the bytes after a PROXY header. */
#ifndef WG_CONN_SNI_H
#define WG_CONN_SNI_H

#include <stddef.h>

struct wg_conn;

/* Reads what the client sent so far. Returns 1 when the first TLS record
 * is complete (name: its server name, "" when none; the bytes read now
 * wait in c->rx_stash for wolfSSL), 0 when more must come, -1 when the
 * connection was closed (said). */
int wg_conn_sni_read(struct wg_conn *c, char *name, size_t namelen);
/* Ends the handshake with a TLS alert unrecognized_name and closes. */
void wg_conn_sni_refuse(struct wg_conn *c, const char *name);

#endif
