/* Failed logins counted on every node (docs/cluster.md, "Bans"): each
 * failure a node sees adds one to the address's count in Redis
 * ("<prefix>fail:ADDR", a TTL of ban-window from the window's first
 * failure), and the node whose failure brings the count to ban-failures
 * bans the address here and through the shared ban set. The local ban
 * table keeps counting as before (its delays, and the fallback: with Redis
 * unavailable a node counts alone, said once per outage). Nothing waits on
 * the answer: the login was already answered. */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/cluster.h"
#include "cluster/redis.h"
#include "cluster/scripts.h"
#include "cluster/state.h"
#include "net/ban.h"
#include "observe/events.h"
#include "server.h"
#include "util/log.h"

/* One count waiting for Redis's answer; listed so that a stopping server
 * frees those whose answer never comes (wg_redis_free drops callbacks). */
struct wg_cluster_failure {
	struct wg_cluster_failure *next;
	struct wg_cluster *cl;
	char addr[64]; /* canonical, as the ban table counts it */
};

static void failure_key(const struct wg_cluster *cl, const char *canon, char *out, size_t len)
{
	snprintf(out, len, "%sfail:%s", cl->prefix, canon);
}

/* Once per outage: from here on this node's count is all it has. */
static void counting_alone(struct wg_cluster *cl, const char *why)
{
	if (cl->failures_alone)
		return;
	cl->failures_alone = true;
	wg_log(NULL, WG_LOG_WARN,
	       "cluster: redis unavailable (%s): failed logins are counted on this node only until it is back", why);
}

static void unlink_failure(struct wg_cluster_failure *f)
{
	for (struct wg_cluster_failure **pp = &f->cl->failures; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			return;
		}
}

static void shared_ban(struct wg_server *srv, const char *addr, long long count)
{
	time_t now = time(NULL);

	/* Banned already: by this node's own count (which shared it), or by a
	 * ban read from the set. */
	if (wg_ban_remaining(srv->bans, addr, now) > 0)
		return;
	if (wg_ban_add(srv->bans, addr, srv->ban_time, now) < 0)
		return;
	wg_log(NULL, WG_LOG_WARN, "%s: banned for %u s after %lld failed logins within %u s on the nodes of the cluster",
	       addr, srv->ban_time, count, srv->ban_window);
	wg_events_emit(srv, "ban",
		       json_pack("{s:s, s:I, s:s}", "client_address", addr, "seconds", (json_int_t)srv->ban_time, "reason",
				 "failed logins on the nodes of the cluster"));
	wg_cluster_ban(srv, addr, srv->ban_time);
}

static void got_count(const struct redisReply *reply, const char *error, void *arg)
{
	struct wg_cluster_failure *f = arg;
	struct wg_cluster *cl = f->cl;
	struct wg_server *srv = cl->srv;

	unlink_failure(f);
	if (!reply || reply->type != REDIS_REPLY_INTEGER) {
		counting_alone(cl, error ? error : "unexpected reply");
	} else {
		cl->failures_alone = false;
		if (srv->bans && srv->ban_failures && reply->integer >= (long long)srv->ban_failures)
			shared_ban(srv, f->addr, reply->integer);
	}
	free(f);
}

void wg_cluster_login_failed(struct wg_server *srv, const char *addr)
{
	struct wg_cluster *cl = srv->cluster;
	struct wg_cluster_failure *f;
	char key[160], window[16];

	if (!cl || !srv->bans || !srv->ban_failures || !(f = calloc(1, sizeof(*f))))
		return;
	if (wg_ban_canonical(srv->bans, addr, f->addr, sizeof(f->addr)) < 0) {
		free(f);
		return;
	}
	f->cl = cl;
	failure_key(cl, f->addr, key, sizeof(key));
	snprintf(window, sizeof(window), "%u", srv->ban_window);
	const char *argv[5] = {"EVAL", wg_cluster_failure_script, "1", key, window};
	size_t lens[5];
	for (int i = 0; i < 5; i++)
		lens[i] = strlen(argv[i]);
	int rc = wg_redis_command(cl->redis, 5, argv, lens, got_count, f, NULL);
	if (rc < 0) {
		const char *why = rc == -ENOTCONN ? wg_redis_down_reason(cl->redis) : strerror(-rc);
		counting_alone(cl, why && *why ? why : "not connected");
		free(f);
		return;
	}
	f->next = cl->failures;
	cl->failures = f;
}

void wg_cluster_failures_forget(struct wg_cluster *cl, const char *canon)
{
	char key[160];

	failure_key(cl, canon, key, sizeof(key));
	const char *argv[2] = {"DEL", key};
	size_t lens[2] = {3, strlen(key)};
	wg_redis_command(cl->redis, 2, argv, lens, NULL, NULL, NULL);
}

void wg_cluster_failures_free(struct wg_cluster *cl)
{
	while (cl->failures) {
		struct wg_cluster_failure *f = cl->failures;
		cl->failures = f->next;
		free(f);
	}
}
