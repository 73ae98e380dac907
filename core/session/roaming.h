#ifndef WG_ROAMING_H
#define WG_ROAMING_H
#include <stdbool.h>
struct wg_server;
/* Whether a session that logged in (or last connected) from session_addr
 * may open its tunnel from peer_addr: always with the server option
 * "allow-roaming" true (openconnect reconnects from a new address after a
 * network change), else only from the same address, so a stolen cookie is
 * useless elsewhere. */
bool wg_roaming_allowed(const struct wg_server *srv, const char *session_addr, const char *peer_addr);
#endif
