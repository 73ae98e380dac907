/* The cluster area's shared state (struct wg_cluster) and what its files
 * call of each other; private to core/cluster. */
#ifndef WG_CLUSTER_STATE_H
#define WG_CLUSTER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/key.h"
#include "cluster/record.h"
#include "session/session.h" /* WG_COOKIE_LEN */

struct wg_server;
struct wg_redis;
struct wg_redis_tls;
struct event;
struct wg_cluster_claim;
struct wg_cluster_failure;

struct wg_cluster {
	struct wg_server *srv;
	struct wg_redis *redis;
	struct wg_redis_tls *tls; /* cluster-redis-tls, or NULL */
	uint8_t secret[256];
	size_t secret_len;
	char prefix[64];
	char node[64];                /* this worker's member name, "NODE" or "NODE/wI" (member.h) */
	char workers_node[64];        /* "NODE" when this node runs several workers ("NODE/wI"), else "" */
	struct event *refresh; /* rewrites the live sessions' records */
	struct event *ban_sync; /* reads the shared ban set and the other nodes' user counts */
	struct wg_hashmap *elsewhere; /* owned: user (128 bytes, NUL-padded) -> unsigned *, other nodes' sessions */
	unsigned elsewhere_sessions, elsewhere_users; /* totals, logged when they change */
	unsigned timeout_ms;          /* cluster-timeout-ms */
	int64_t kick_seen;            /* the newest request of the kick set applied (unix s) */
	int64_t unban_seen;           /* the newest entry of the unban set applied (unix s) */
	char (*shared_bans)[64];      /* the ban set's live addresses at its last read (an unban skips them) */
	size_t n_shared_bans, cap_shared_bans;
	bool shared_bans_read;        /* that read succeeded */
	bool shared_pool;             /* "cluster-shared-pool": addresses claimed in Redis (lease.c) */
	struct wg_cluster_claim *claims; /* logins waiting for a claim's answer */
	struct wg_cluster_failure *failures; /* failure counts waiting for Redis's answer (failures.c) */
	bool failures_alone;          /* said that failed logins are counted here only (until a count succeeds) */
};

/* "<prefix>s:<HMAC(cookie)>" for a raw cookie (WG_COOKIE_LEN bytes);
 * 0 or -1. Inline here so that every file of the area builds keys the same
 * way without calling back into cluster.c. */
static inline int wg_cluster_key_for(const struct wg_cluster *cl, const uint8_t *cookie, char *key, size_t keylen,
				     char hash[WG_CLUSTER_HASH_HEX])
{
	if (wg_cluster_cookie_hash(cl->secret, cl->secret_len, cookie, WG_COOKIE_LEN, hash) < 0)
		return -1;
	return wg_cluster_session_key(cl->prefix, hash, key, keylen);
}

struct wg_session;
/* users.c: this node's per-user counts in Redis, and the other nodes'. */
void wg_cluster_users_up(struct wg_cluster *cl, struct wg_session *s);
void wg_cluster_users_ended(struct wg_cluster *cl, struct wg_session *s);
void wg_cluster_users_rewrite(struct wg_cluster *cl);
void wg_cluster_users_poll(struct wg_cluster *cl);
void wg_cluster_users_free(struct wg_cluster *cl);

/* failures.c: an unban forgets the address's shared failure count
 * (canonical address, as the ban table names it); the server stops. */
void wg_cluster_failures_forget(struct wg_cluster *cl, const char *canon);
void wg_cluster_failures_free(struct wg_cluster *cl);


#endif
