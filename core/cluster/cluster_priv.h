/* What cluster.c and adopt.c share. */
#ifndef WG_CLUSTER_PRIV_H
#define WG_CLUSTER_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/key.h"
#include "cluster/record.h"

struct wg_server;
struct wg_redis;
struct event;
struct wg_cluster_claim;

struct wg_cluster {
	struct wg_server *srv;
	struct wg_redis *redis;
	uint8_t secret[256];
	size_t secret_len;
	char prefix[64];
	char node[64];
	struct event *refresh; /* rewrites the live sessions' records */
	struct event *ban_sync; /* reads the shared ban set and the other nodes' user counts */
	struct wg_hashmap *elsewhere; /* owned: user (128 bytes, NUL-padded) -> unsigned *, other nodes' sessions */
	unsigned elsewhere_sessions, elsewhere_users; /* totals, logged when they change */
	unsigned timeout_ms;          /* cluster-timeout-ms */
	int64_t kick_seen;            /* the newest request of the kick set applied (unix s) */
	bool shared_pool;             /* "cluster-shared-pool": addresses claimed in Redis (lease.c) */
	struct wg_cluster_claim *claims; /* logins waiting for a claim's answer */
};

/* "<prefix>s:<HMAC(cookie)>" for a raw cookie; 0 or -1. */
int wg_cluster_key_for(const struct wg_cluster *cl, const uint8_t *cookie, char *key, size_t keylen,
		       char hash[WG_CLUSTER_HASH_HEX]);

struct wg_session;
/* users.c: this node's per-user counts in Redis, and the other nodes'. */
void wg_cluster_users_up(struct wg_cluster *cl, struct wg_session *s);
void wg_cluster_users_ended(struct wg_cluster *cl, struct wg_session *s);
void wg_cluster_users_rewrite(struct wg_cluster *cl);
void wg_cluster_users_poll(struct wg_cluster *cl);
void wg_cluster_users_free(struct wg_cluster *cl);

/* lease.c: the shared pool. The lease keys of a session's addresses
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
