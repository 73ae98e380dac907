/* The shared address pool (docs/cluster.md, "Addresses"): lease.c, and
 * cluster_off.c's stand-in when the server is built without hiredis. */
#ifndef WG_CLUSTER_LEASE_H
#define WG_CLUSTER_LEASE_H

#include "cluster/key.h"

struct wg_cluster;
struct wg_session;

/* A login's address lease (docs/cluster.md, "Addresses"): the routing
 * plugin's lease (wg_session_lease_begin) and, with "cluster-shared-pool",
 * its claim in Redis (SET-if-free of the address keys, atomic in one Lua
 * script): an address another node holds is kept from the plugin and
 * another one leased, until one is claimed or the plugin has none left.
 * Redis unavailable: no address (-EADDRNOTAVAIL, logged), never a lease
 * that might be another node's. done gets 0 or a negative errno, at once
 * or later (the loop goes on meanwhile). */
struct wg_tunnel_config;
typedef void wg_cluster_lease_fn(void *arg, int rc);
void wg_cluster_lease(struct wg_session *s, struct wg_tunnel_config *tc, wg_cluster_lease_fn *done, void *arg);

/* The lease keys of a session's addresses
 * ("<prefix>lease4:ADDR", "<prefix>lease6:ADDR"): how many (0..2). */
unsigned wg_cluster_lease_keys(const struct wg_cluster *cl, const struct wg_session *s, char keys[2][128]);
/* The session's leases again with its cookie's hash (a live session's
 * refresh, an adoption, Redis back): a lease another session holds ends
 * this one. */
void wg_cluster_lease_renew(struct wg_cluster *cl, struct wg_session *s, const char hash[WG_CLUSTER_HASH_HEX]);
/* Ends the sessions whose leases would lapse before the next check
 * (their renewals failed): another node could claim the address then. */
void wg_cluster_lease_fence(struct wg_cluster *cl);
void wg_cluster_lease_free(struct wg_cluster *cl);

#endif
