/* The HTTP front of a connection: which request goes where (login forms,
 * the tunnel's CONNECT, the camouflage decoy, 404). The server gives these
 * handlers to every connection it accepts (net/conn.h). */
#ifndef WG_ROUTER_H
#define WG_ROUTER_H

struct wg_conn_handlers;

extern const struct wg_conn_handlers wg_router_handlers;

#endif
