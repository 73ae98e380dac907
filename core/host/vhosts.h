/* What a generation's vhosts need beyond their plugins (modules/gen.h):
 * a TLS context per vhost, and their own address pools routed into the
 * TUN device. The pools are routed at start, while the server is still
 * root; a reload may add, change and remove vhosts, but a pool that was
 * not routed at start waits for a restart, as a changed default pool does. */
#ifndef WG_HOST_VHOSTS_H
#define WG_HOST_VHOSTS_H

#include <stddef.h>

struct wg_server;
struct wg_gen;
struct wg_err;

/* Makes the TLS context of every named vhost of g. 0, or -1 with one line
 * per vhost whose certificate, key or TLS settings fail in err. */
int wg_vhosts_tls(struct wg_gen *g, struct wg_err *err);
/* At start (root): routes the pools of the current generation's vhosts
 * that have their own routing plugin into the TUN device and remembers
 * them. 0, or -1 with the reason in err. */
int wg_vhosts_route_pools(struct wg_server *srv, char *err, size_t errlen);
/* At reload: every pool of g's vhosts was routed at start. 0 or -1 (err). */
int wg_vhosts_check_pools(struct wg_server *srv, struct wg_gen *g, struct wg_err *err);
/* One line naming the vhosts and their chains, for the log. */
void wg_vhosts_log(const struct wg_gen *g);

#endif
