/* Reconnects on another node: a CONNECT whose cookie this node does not
 * know waits (the connection is busy, the loop goes on) while Redis is
 * asked for the session; a valid record becomes a local session with the
 * same cookie, user, groups, attributes, addresses and tunnel parameters,
 * and the CONNECT is answered as any reconnect (cluster.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>

#include "cluster/cluster.h"
#include "cluster/state.h"
#include "cluster/redis.h"
#include "modules/gen.h"
#include "net/conn.h"
#include "observe/metrics.h"
#include "server.h"
#include "session/lease.h"
#include "session/session.h"
#include "session/user_count.h"
#include "util/hex.h"
#include "util/log.h"

struct wg_cluster_wait {
	struct wg_conn *conn;
	struct wg_redis_req *req;
	wg_cluster_resume_fn *resume; /* the caller's: answers the CONNECT */
	uint8_t cookie[WG_COOKIE_LEN];
	char hash[WG_CLUSTER_HASH_HEX];
};

static void wait_free(struct wg_cluster_wait *w)
{
	explicit_bzero(w->cookie, sizeof(w->cookie));
	free(w);
}

/* The adopted session's accounting goes to this node's instances of the
 * auth plugins that logged it in (by name, from the current generation,
 * which the session then keeps, as a login's session keeps its own). The
 * session's attributes came with the record, so auth-radius sends its
 * Start with the same Acct-Session-Id and Class as node A did. The
 * record names no vhost, so the default server's chain serves it. */
static void take_auth_steps(struct wg_server *srv, struct wg_session *s, const char *names)
{
	struct wg_gen *g = srv->gen;
	struct wg_vhost *vh;

	if (!g || !names[0])
		return;
	vh = &g->vhosts[0];
	wg_session_set_vhost(s, vh);
	for (const char *p = names; *p && s->n_auth_steps < WG_MAX_AUTH_STEPS;) {
		size_t len = strcspn(p, ",");
		for (unsigned i = 0; i < vh->n_auth; i++) {
			const char *have = vh->auth_chain[i]->desc->name;
			if (strlen(have) == len && memcmp(have, p, len) == 0) {
				s->auth_steps[s->n_auth_steps++] = vh->auth_chain[i];
				break;
			}
		}
		p += len;
		if (*p == ',')
			p++;
	}
}

/* A local session from a checked record, registered under the same cookie.
 * NULL (logged) when it cannot be made here. */
static struct wg_session *session_from_record(struct wg_server *srv, const struct wg_cluster_wait *w,
					      const struct wg_cluster_record *r)
{
	const char *groups[WG_CLUSTER_MAX_GROUPS + 1] = {NULL};
	struct wg_attr attrs[WG_CLUSTER_MAX_ATTRS];
	struct wg_tunnel_config *tc;
	struct wg_session *s;
	unsigned count;

	for (unsigned i = 0; i < r->n_groups; i++)
		groups[i] = r->groups[i];
	for (unsigned i = 0; i < r->n_attrs; i++) {
		attrs[i].key = r->attr_key[i];
		attrs[i].value = r->attr_value[i];
	}
	s = wg_session_new(srv, r->user, groups, r->group, r->client, "", attrs, r->n_attrs);
	if (!s)
		return NULL;
	if (wg_session_adopt_cookie(s, w->cookie) < 0) {
		wg_session_end(s, "not adopted");
		return NULL;
	}
	memcpy(s->tc.addr4, r->addr4, sizeof(s->tc.addr4));
	memcpy(s->tc.netmask4, r->mask4, sizeof(s->tc.netmask4));
	memcpy(s->tc.addr6, r->addr6, sizeof(s->tc.addr6));
	s->tc.prefix6 = r->prefix6;
	s->tc.mtu = r->mtu;
	s->tc.dpd_s = r->dpd;
	s->tc.keepalive_s = r->keepalive;
	s->tc.idle_timeout_s = r->idle;
	s->tc.session_timeout_s = r->stimeout;
	s->tc.rate_limit_kbps = r->rate;
	if (r->created > 0 && r->created <= (int64_t)s->created)
		s->created = (time_t)r->created; /* session-timeout counts from the login */
	s->pushed = strdup(r->pushed);
	tc = calloc(1, sizeof(*tc));
	if (!s->pushed || !tc) {
		free(tc);
		wg_session_end(s, "not adopted");
		return NULL;
	}
	tc->struct_size = sizeof(*tc);
	memcpy(tc->addr4, r->addr4, sizeof(tc->addr4));
	memcpy(tc->addr6, r->addr6, sizeof(tc->addr6));
	/* Not leased from this node's routing plugin (s->leased stays false):
	 * held in the address tables, which later leases on this node respect. */
	int rc = wg_session_register_addresses(s, tc);
	free(tc);
	if (rc < 0) {
		wg_log(s, WG_LOG_WARN, "cluster: session %.8s not adopted: its address %s%s%s is taken on this node", w->hash,
		       r->addr4, r->addr6[0] ? " " : "", r->addr6);
		wg_session_end(s, "not adopted");
		return NULL;
	}
	/* With several workers: steered here at once (again at tunnel up), so
	 * that no other worker's routing plugin can claim the address meanwhile. */
	wg_session_steer_take(s);
	if (wg_user_count_take(srv->user_count, s->user, 0, &count) == WG_USER_COUNT_TAKEN)
		s->user_counted = true;
	take_auth_steps(srv, s, r->auth);
	/* A shared pool's lease came with the record (alive while the record
	 * is); renewed for this session at its tunnel up. */
	if (srv->cluster->shared_pool)
		s->cluster_lease_until = time(NULL) + 20 + (time_t)(srv->cluster->timeout_ms / 1000);
	wg_metrics_counters()->cluster_adopted++;
	wg_log(s, WG_LOG_NOTICE, "cluster: session %.8s adopted from node %s", w->hash, r->node[0] ? r->node : "?");
	return s;
}

/* This node's own session of that cookie, if it has one. */
static struct wg_session *local_session(struct wg_server *srv, const uint8_t *cookie)
{
	char hex[2 * WG_COOKIE_LEN + 1];

	wg_hex_encode(cookie, WG_COOKIE_LEN, hex);
	struct wg_session *s = wg_session_by_cookie(srv, hex);
	explicit_bzero(hex, sizeof(hex));
	return s;
}

static void refuse_unavailable(struct wg_conn *c, const struct wg_cluster_wait *w, const char *why)
{
	struct wg_session *s = local_session(c->srv, w->cookie);

	if (s) {
		/* What this node knows is all there is to go on. */
		wg_log(s, WG_LOG_NOTICE, "%s: cluster: redis unavailable (%s): session %.8s resumes here unchecked", c->peer,
		       why, w->hash);
		w->resume(c, s, NULL, NULL);
		return;
	}
	wg_log(NULL, WG_LOG_WARN, "%s: cluster: cannot adopt session %.8s: redis unavailable (%s)", c->peer, w->hash, why);
	w->resume(c, NULL, "503 Service Unavailable", "session store unavailable, try again");
}

static void got_record(const struct redisReply *reply, const char *error, void *arg)
{
	struct wg_cluster_wait *w = arg;
	struct wg_conn *c = w->conn;
	struct wg_cluster_record r;
	char err[160];

	c->cluster_wait = NULL;
	if (!reply || reply->type != REDIS_REPLY_ARRAY) {
		refuse_unavailable(c, w, reply ? "unexpected reply" : error);
		wait_free(w);
		return;
	}
	struct wg_session *mine = local_session(c->srv, w->cookie);
	if (reply->elements == 0) {
		wg_log(NULL, WG_LOG_NOTICE, "%s: cluster: no session %.8s on any node (ended, expired or never made)", c->peer,
		       w->hash);
		/* Ended elsewhere (a logout on the node it moved to): this copy goes too. */
		if (mine)
			wg_session_end(mine, "ended on another node");
		w->resume(c, NULL, "401 Unauthorized", "session cookie unknown or expired");
		wait_free(w);
		return;
	}
	size_t n = reply->elements <= 2 * WG_CLUSTER_MAX_FIELDS ? reply->elements : 0;
	const char *items[2 * WG_CLUSTER_MAX_FIELDS];
	size_t lens[2 * WG_CLUSTER_MAX_FIELDS];
	for (size_t i = 0; i < n; i++) {
		const redisReply *e = reply->element[i];
		if (e->type != REDIS_REPLY_STRING) {
			n = 1; /* refused below as malformed */
			break;
		}
		items[i] = e->str;
		lens[i] = e->len;
	}
	if (wg_cluster_record_parse(items, lens, n ? n : 1, &r, err, sizeof(err)) < 0) {
		wg_log(NULL, WG_LOG_WARN, "%s: cluster: session %.8s refused: %s", c->peer, w->hash, err);
		w->resume(c, NULL, "401 Unauthorized", "session cookie unknown or expired");
		wait_free(w);
		return;
	}
	/* This node's copy (a lingering session, or one another connection
	 * adopted meanwhile) serves if the record still names this node; if
	 * another node holds the session now, the copy is stale. */
	struct wg_session *s = local_session(c->srv, w->cookie);
	if (s && strcmp(r.node, c->srv->cluster->node) != 0 && !s->cstp) {
		wg_log(s, WG_LOG_INFO, "cluster: session %.8s moved to node %s; this copy ends", w->hash, r.node);
		wg_session_end(s, "moved to another node");
		s = NULL;
	}
	if (!s)
		s = session_from_record(c->srv, w, &r);
	wg_cluster_record_free(&r);
	if (!s)
		w->resume(c, NULL, "503 Service Unavailable", "the session cannot be taken over here");
	else
		w->resume(c, s, NULL, NULL);
	wait_free(w);
}

int wg_cluster_adopt(struct wg_conn *c, const char *cookie_hex, wg_cluster_resume_fn *resume)
{
	struct wg_cluster *cl = c->srv->cluster;
	struct wg_cluster_wait *w;
	char key[160];

	if (!cl || !resume || !cookie_hex || strlen(cookie_hex) != 2 * WG_COOKIE_LEN)
		return -1;
	if (!(w = calloc(1, sizeof(*w))))
		return -1;
	if (wg_hex_decode(cookie_hex, w->cookie, sizeof(w->cookie)) < 0 ||
	    wg_cluster_key_for(cl, w->cookie, key, sizeof(key), w->hash) < 0) {
		wait_free(w);
		return -1;
	}
	const char *argv[2] = {"HGETALL", key};
	size_t lens[2] = {7, strlen(key)};
	w->conn = c;
	w->resume = resume;
	c->busy = true;
	if (wg_redis_command(cl->redis, 2, argv, lens, got_record, w, &w->req) < 0) {
		refuse_unavailable(c, w, wg_redis_is_up(cl->redis) ? "out of memory" : wg_redis_down_reason(cl->redis));
		wait_free(w);
		return 0;
	}
	c->cluster_wait = w;
	return 0;
}

void wg_cluster_conn_gone(struct wg_conn *c)
{
	struct wg_cluster_wait *w = c->cluster_wait;

	if (!w)
		return;
	c->cluster_wait = NULL;
	wg_redis_cancel(w->req); /* its reply then frees nothing of ours */
	wait_free(w);
}
