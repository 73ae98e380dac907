/* The shared address pool of a cluster ("cluster-shared-pool",
 * docs/cluster.md): every node's routing plugin proposes addresses from
 * the same pool, and an address is this node's only once Redis has it
 * under "<prefix>lease4:ADDR" (and lease6) with the session's cookie hash
 * as value. One Lua script claims all the keys of a lease or none
 * (atomic in Redis), so two nodes racing for one address cannot both win.
 *
 * A claim refused because another session holds the address keeps that
 * address from the routing plugin (session/lease.h) and leases again: the
 * plugin then offers another, and the login ends with the first address
 * claimed or with "no address" when the plugin has none left. Nothing
 * waits on Redis but the login itself; with Redis unavailable the login
 * gets no address (an address that may be another node's is never given).
 *
 * Lease keys live as long as the session record (cookie-lifetime, renewed
 * with it); a node that cannot renew a session's lease ends the session
 * before the key can lapse (wg_cluster_lease_fence), since another node
 * could claim the address from then on. */
#include <errno.h>
#include <stdbool.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "cluster/cluster.h"
#include "cluster/lease.h"
#include "cluster/state.h"
#include "cluster/redis.h"
#include "cluster/scripts.h"
#include "hashmap.h"
#include "observe/metrics.h"
#include "server.h"
#include "session/lease.h"
#include "session/session.h"
#include "util/addr.h"
#include "util/hex.h"
#include "util/log.h"

/* Claims and renewals per login before it is refused: each refused claim
 * is an address another node holds, kept from the plugin meanwhile. */
#define MAX_CLAIMS 256

struct wg_cluster_claim {
	struct wg_cluster *cl;
	struct wg_session *s;
	struct wg_tunnel_config *tc;
	wg_cluster_lease_fn *done;
	void *arg;
	struct wg_redis_req *req;
	unsigned tries;
	time_t sent;
	char hash[WG_CLUSTER_HASH_HEX];
	struct wg_cluster_claim *next;
};

unsigned wg_cluster_lease_keys(const struct wg_cluster *cl, const struct wg_session *s, char keys[2][128])
{
	unsigned n = 0;
	struct in_addr a4;
	uint8_t a6[16];
	char text[INET6_ADDRSTRLEN];

	if (s->tc.addr4[0] && inet_pton(AF_INET, s->tc.addr4, &a4) == 1 &&
	    inet_ntop(AF_INET, &a4, text, sizeof(text)))
		snprintf(keys[n++], 128, "%slease4:%s", cl->prefix, text);
	/* The canonical text, so that every node names an address alike. */
	if (s->tc.addr6[0] && wg_addr_parse6(s->tc.addr6, a6) == 0 && inet_ntop(AF_INET6, a6, text, sizeof(text)))
		snprintf(keys[n++], 128, "%slease6:%s", cl->prefix, text);
	return n;
}

/* EVAL of the claim script over the session's keys: 0, or -ENOTCONN and
 * the like from wg_redis_command, -EINVAL without an address. */
static int send_claim(struct wg_cluster *cl, const struct wg_session *s, const char *hash, bool renew_only,
		      wg_redis_cb cb, void *arg, struct wg_redis_req **handle)
{
	char keys[2][128], nkeys[12], ttl[16];
	unsigned n = wg_cluster_lease_keys(cl, s, keys);
	const char *argv[8];
	size_t lens[8];
	int argc = 0;

	if (!n)
		return -EINVAL;
	snprintf(nkeys, sizeof(nkeys), "%u", n);
	snprintf(ttl, sizeof(ttl), "%u", cl->srv->cookie_lifetime);
	argv[argc++] = "EVAL";
	argv[argc++] = wg_cluster_claim_script;
	argv[argc++] = nkeys;
	for (unsigned i = 0; i < n; i++)
		argv[argc++] = keys[i];
	argv[argc++] = hash;
	argv[argc++] = ttl;
	if (renew_only)
		argv[argc++] = "renew";
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return wg_redis_command(cl->redis, argc, argv, lens, cb, arg, handle);
}

static void claim_unlink(struct wg_cluster_claim *k)
{
	for (struct wg_cluster_claim **pp = &k->cl->claims; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			return;
		}
}

/* The login's answer: the kept addresses go back to the plugin. */
static void claim_finish(struct wg_cluster_claim *k, int rc)
{
	wg_cluster_lease_fn *done = k->done;
	void *arg = k->arg;

	claim_unlink(k);
	wg_session_lease_settle(k->s);
	free(k);
	done(arg, rc);
}

static void claim_send(struct wg_cluster_claim *k);

static void got_claim(const struct redisReply *reply, const char *error, void *arg)
{
	struct wg_cluster_claim *k = arg;
	struct wg_session *s = k->s;
	struct wg_metrics *m = wg_metrics_counters();

	k->req = NULL;
	if (!reply || reply->type != REDIS_REPLY_INTEGER) {
		/* The claim may or may not have been written: the key, if any,
		 * names this session's hash and lapses with its TTL. */
		m->cluster_lease_refused++;
		wg_log(s, WG_LOG_WARN, "cluster: no address: the claim of %s in the shared pool failed (%s)", s->tc.addr4,
		       reply ? "unexpected reply" : error);
		claim_finish(k, -EADDRNOTAVAIL);
		return;
	}
	if (reply->integer == 0) {
		m->cluster_lease_claims++;
		s->cluster_lease_until = k->sent + (time_t)k->cl->srv->cookie_lifetime;
		wg_log(s, WG_LOG_DEBUG, "cluster: %s%s%s claimed in the shared pool", s->tc.addr4, s->tc.addr6[0] ? " " : "",
		       s->tc.addr6);
		claim_finish(k, 0);
		return;
	}
	m->cluster_lease_conflicts++;
	wg_log(s, WG_LOG_INFO, "cluster: %s is held by another node; leasing another", s->tc.addr4[0] ? s->tc.addr4 : s->tc.addr6);
	if (++k->tries >= MAX_CLAIMS) {
		wg_log(s, WG_LOG_WARN, "cluster: no address: %u addresses offered here are all held by other nodes", k->tries);
		claim_finish(k, -EADDRNOTAVAIL);
		return;
	}
	int rc = wg_session_lease_set_aside(s);
	if (rc == 0)
		rc = wg_session_lease_begin(s, k->tc);
	if (rc < 0) {
		wg_log(s, WG_LOG_WARN, "cluster: no address: the shared pool has none left that no other node holds");
		claim_finish(k, rc);
		return;
	}
	claim_send(k);
}

static void claim_send(struct wg_cluster_claim *k)
{
	struct wg_cluster *cl = k->cl;

	k->sent = time(NULL);
	int rc = wg_redis_is_up(cl->redis) ? send_claim(cl, k->s, k->hash, false, got_claim, k, &k->req) : -ENOTCONN;
	if (rc < 0) {
		wg_metrics_counters()->cluster_lease_refused++;
		wg_log(k->s, WG_LOG_WARN, "cluster: no address: the shared pool needs redis, which is unavailable (%s)",
		       rc == -ENOTCONN ? wg_redis_down_reason(cl->redis) : strerror(-rc));
		claim_finish(k, -EADDRNOTAVAIL);
	}
}

void wg_cluster_lease(struct wg_session *s, struct wg_tunnel_config *tc, wg_cluster_lease_fn *done, void *arg)
{
	struct wg_cluster *cl = s->srv->cluster;
	int rc = wg_session_lease_begin(s, tc);

	if (rc < 0 || !cl || !cl->shared_pool) {
		done(arg, rc);
		return;
	}
	struct wg_cluster_claim *k = calloc(1, sizeof(*k));
	char key[160];
	if (!k || wg_cluster_key_for(cl, s->cookie, key, sizeof(key), k->hash) < 0) {
		free(k);
		done(arg, -ENOMEM);
		return;
	}
	k->cl = cl;
	k->s = s;
	k->tc = tc;
	k->done = done;
	k->arg = arg;
	k->next = cl->claims;
	cl->claims = k;
	claim_send(k);
}

/* A renewal's answer finds its session by cookie (it may have ended). */
struct renewal {
	struct wg_cluster *cl;
	uint8_t cookie[WG_COOKIE_LEN];
	time_t sent;
};

static void got_renewal(const struct redisReply *reply, const char *error, void *arg)
{
	struct renewal *w = arg;
	char hex[2 * WG_COOKIE_LEN + 1];

	(void)error;
	wg_hex_encode(w->cookie, WG_COOKIE_LEN, hex);
	struct wg_session *s = wg_session_by_cookie(w->cl->srv, hex);
	explicit_bzero(hex, sizeof(hex));
	if (s && !s->ending && reply && reply->type == REDIS_REPLY_INTEGER) {
		if (reply->integer == 0) {
			s->cluster_lease_until = w->sent + (time_t)w->cl->srv->cookie_lifetime;
		} else if (reply->integer < 0) {
			wg_log(s, WG_LOG_INFO, "cluster: the lease of %s is gone from redis (the session ended elsewhere, or "
			       "redis lost it); this copy ends", s->tc.addr4[0] ? s->tc.addr4 : s->tc.addr6);
			wg_session_end(s, "ended on another node");
		} else {
			/* Only after Redis lost the key (restarted empty, or the
			 * lease lapsed while this node was cut off): two sessions
			 * now have the address; this one lets go. */
			wg_metrics_counters()->cluster_lease_lapsed++;
			wg_log(s, WG_LOG_ERROR, "cluster: %s is claimed by another node's session (redis lost this lease); "
			       "the session ends here", s->tc.addr4[0] ? s->tc.addr4 : s->tc.addr6);
			wg_session_end(s, "address lease lapsed");
		}
	}
	explicit_bzero(w->cookie, sizeof(w->cookie));
	free(w);
}

void wg_cluster_lease_renew(struct wg_cluster *cl, struct wg_session *s, const char hash[WG_CLUSTER_HASH_HEX])
{
	if (!cl->shared_pool || s->ending || !wg_redis_is_up(cl->redis))
		return;
	struct renewal *w = malloc(sizeof(*w));
	if (!w)
		return;
	w->cl = cl;
	memcpy(w->cookie, s->cookie, WG_COOKIE_LEN);
	w->sent = time(NULL);
	/* A session lingering here after a tunnel (acct_started: it was up,
	 * as tunnel.c reads it) only renews: its lease gone means it ended
	 * elsewhere (or Redis lost it, and its record with it), and a stale
	 * copy must not claim the address back. A session still before its
	 * first tunnel has no record another node could adopt: it claims. */
	bool lingering = s->acct_started && !s->cstp;
	if (send_claim(cl, s, hash, lingering, got_renewal, w, NULL) < 0) {
		explicit_bzero(w->cookie, sizeof(w->cookie));
		free(w);
	}
}

void wg_cluster_lease_fence(struct wg_cluster *cl)
{
	if (!cl->shared_pool)
		return;
	/* Ended while the key surely lives: the next check is 2 s away, a
	 * renewal in flight may take the timeout, and 5 s spare for clocks
	 * (whole seconds here and in Redis) and a busy loop. */
	time_t margin = 2 + (time_t)(cl->timeout_ms / 1000) + 1 + 5;
	time_t now = time(NULL);
	size_t n;
	void **all = wg_hashmap_values(cl->srv->by_cookie, &n);

	for (size_t i = 0; all && i < n; i++) {
		struct wg_session *s = all[i];
		if (s->ending || !s->cluster_lease_until || s->held || now + margin < s->cluster_lease_until)
			continue;
		wg_metrics_counters()->cluster_lease_lapsed++;
		wg_log(s, WG_LOG_WARN,
		       "cluster: the lease of %s could not be renewed (redis unavailable: %s); the session ends before "
		       "another node may claim the address",
		       s->tc.addr4[0] ? s->tc.addr4 : s->tc.addr6, wg_redis_down_reason(cl->redis));
		wg_session_end(s, "address lease lapsed");
	}
	free(all);
}

void wg_cluster_lease_free(struct wg_cluster *cl)
{
	/* The server stops: the logins waiting here end with it (their
	 * Redis requests were dropped with the connection, unanswered). */
	while (cl->claims) {
		struct wg_cluster_claim *k = cl->claims;
		cl->claims = k->next;
		wg_session_lease_settle(k->s);
		free(k);
	}
}
