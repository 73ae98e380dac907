/* Camouflage (server option camouflage-secret): the server answers like an
 * ordinary web server to every request that does not prove it knows the
 * VPN, so a scanner finds no login form, no XML and no "Server: wolfguard".
 * A request proves it by carrying the secret as its URL's query
 * ("https://vpn.example.net/?SECRET", as with ocserv's camouflage_secret),
 * after which its connection is trusted; or by a cookie only the VPN hands
 * out: the context cookie of a login in progress (a login that began with
 * the secret) or the webvpn cookie of a live session (CONNECT, reconnects). */
#ifndef WG_CAMOUFLAGE_H
#define WG_CAMOUFLAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "net/http_parser.h"

struct wg_conn;
struct wg_server;

/* The request may go on to the VPN's own handling. */
bool wg_camouflage_admits(struct wg_conn *c, const struct wg_http_request *req);
/* Answers as the decoy web server: the configured page for GET/HEAD of "/",
 * 401 with Basic realm when camouflage-realm is set, else 404; other
 * methods 405, CONNECT 400 (and the connection closes). */
void wg_camouflage_decoy(struct wg_conn *c, const struct wg_http_request *req);
/* True when url's query string ("/?SECRET", "/x?SECRET") equals secret,
 * compared in constant time. */
bool wg_camouflage_url_has_secret(const char *url, const char *secret);

#endif
