/* iroute: networks behind a user's client (ocserv's per-user `iroute`),
 * routed to that user's session through the TUN device. The server's
 * "users" entries name them; at start (still root) each network is routed
 * into the TUN device in the kernel, and while the user has a session the
 * data path sends packets for it to that session and accepts packets from
 * it as the session's own. One table per worker; iroutes need one worker
 * (the kernel's steering of TUN packets to workers knows only leases). */
#ifndef WG_IROUTE_H
#define WG_IROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_server;
struct wg_session;
struct wg_filter_net;

/* Routes a network into the TUN device dev in the kernel, as `ip route
 * add NET dev DEV` (root only; an existing route is fine). 0 or -errno.
 * Also used for the address pools of vhosts (host/vhosts.c). */
int wg_tun_kernel_route(const char *dev, const struct wg_filter_net *n);

/* Reads every users.NAME.iroute, adds the kernel routes into the TUN
 * device and keeps the table in srv. 0, or -1 with the reason in err. */
int wg_iroutes_install(struct wg_server *srv, char *err, size_t errlen);
void wg_iroutes_free(struct wg_server *srv);

/* The session's user's networks now go to s (its tunnel is configured);
 * and no longer (it ends). */
void wg_iroutes_bind(struct wg_session *s);
void wg_iroutes_unbind(struct wg_session *s);

/* The session an iroute sends dst (4 or 16 bytes) to, or NULL. */
struct wg_session *wg_iroute_owner(const struct wg_server *srv, int family, const uint8_t *dst);
/* pkt's source lies in one of s's iroutes (pkt: a whole IP header). */
bool wg_iroute_source_ok(const struct wg_session *s, const uint8_t *pkt, size_t len);

#endif
