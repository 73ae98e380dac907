/* Sessions per user across the nodes, for max-same-clients. Each node keeps
 * its own counts in the hash "<prefix>n:<node>" (user -> sessions, a TTL of
 * 10 s that the node renews every 2 s, so a dead node's counts vanish) and
 * its name in the set "<prefix>nodes"; every 2 s it reads the other nodes'
 * counts, summed by one Lua script, into a local table that the login's
 * limit check reads without waiting. Each worker of a node is a member of
 * its own (member.h), with its own hash; the sum leaves out the members of
 * this node, whose sessions the shared local table already counts. Two
 * logins of one user on two nodes within those 2 s can therefore both pass
 * (docs/cluster.md). */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/state.h"
#include "cluster/redis.h"
#include "cluster/scripts.h"
#include "hashmap.h"
#include "server.h"
#include "session/session.h"
#include "util/log.h"

#define NODE_TTL "10"
#define USER_KEY_LEN 128

static void node_key(const struct wg_cluster *cl, char *out, size_t len)
{
	snprintf(out, len, "%sn:%s", cl->prefix, cl->node);
}

static void cmd(struct wg_cluster *cl, int argc, const char **argv)
{
	size_t lens[8];

	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	wg_redis_command(cl->redis, argc, argv, lens, NULL, NULL, NULL);
}

static void add(struct wg_cluster *cl, const char *user, const char *by)
{
	char key[160], nodes[96];

	node_key(cl, key, sizeof(key));
	snprintf(nodes, sizeof(nodes), "%snodes", cl->prefix);
	cmd(cl, 4, (const char *[]){"HINCRBY", key, user, by});
	cmd(cl, 3, (const char *[]){"SADD", nodes, cl->node});
	cmd(cl, 3, (const char *[]){"EXPIRE", key, NODE_TTL});
}

void wg_cluster_users_up(struct wg_cluster *cl, struct wg_session *s)
{
	if (!s->user_counted || s->cluster_counted || !wg_redis_is_up(cl->redis))
		return;
	s->cluster_counted = true;
	add(cl, s->user, "1");
}

void wg_cluster_users_ended(struct wg_cluster *cl, struct wg_session *s)
{
	if (!s->cluster_counted)
		return;
	s->cluster_counted = false;
	if (wg_redis_is_up(cl->redis))
		add(cl, s->user, "-1"); /* when down, the next rewrite puts it right */
}

/* This node's counts written again from its sessions (Redis came back,
 * maybe empty, or counts drifted while it was away). */
void wg_cluster_users_rewrite(struct wg_cluster *cl)
{
	char key[160], nodes[96];
	size_t n;
	void **all;

	if (!wg_redis_is_up(cl->redis))
		return;
	node_key(cl, key, sizeof(key));
	snprintf(nodes, sizeof(nodes), "%snodes", cl->prefix);
	all = wg_hashmap_values(cl->srv->by_cookie, &n);
	cmd(cl, 1, (const char *[]){"MULTI"});
	cmd(cl, 2, (const char *[]){"DEL", key});
	for (size_t i = 0; all && i < n; i++) {
		struct wg_session *s = all[i];
		s->cluster_counted = s->user_counted && s->pushed && !s->ending;
		if (s->cluster_counted)
			cmd(cl, 4, (const char *[]){"HINCRBY", key, s->user, "1"});
	}
	cmd(cl, 3, (const char *[]){"SADD", nodes, cl->node});
	cmd(cl, 3, (const char *[]){"EXPIRE", key, NODE_TTL});
	cmd(cl, 1, (const char *[]){"EXEC"});
	free(all);
}

static void got_counts(const struct redisReply *reply, const char *error, void *arg)
{
	struct wg_cluster *cl = arg;
	struct wg_hashmap *m;
	unsigned sessions = 0, users = 0;

	(void)error;
	if (!reply || reply->type != REDIS_REPLY_ARRAY || !(m = wg_hashmap_new(USER_KEY_LEN)))
		return;
	for (size_t i = 0; i + 1 < reply->elements; i += 2) {
		const redisReply *u = reply->element[i], *c = reply->element[i + 1];
		char user[USER_KEY_LEN];
		unsigned *v;
		if (u->type != REDIS_REPLY_STRING || c->type != REDIS_REPLY_STRING)
			continue;
		memset(user, 0, sizeof(user));
		unsigned count = wg_cluster_parse_count(u->str, u->len, c->str, c->len, user, sizeof(user));
		if (!count || wg_hashmap_get(m, user) || !(v = malloc(sizeof(*v))))
			continue;
		*v = count;
		if (wg_hashmap_put(m, user, v) < 0) {
			free(v);
			continue;
		}
		sessions += count;
		users++;
	}
	wg_cluster_users_free(cl);
	cl->elsewhere = m;
	if (sessions != cl->elsewhere_sessions || users != cl->elsewhere_users)
		wg_log(NULL, WG_LOG_INFO, "cluster: %u sessions of %u users on other nodes", sessions, users);
	cl->elsewhere_sessions = sessions;
	cl->elsewhere_users = users;
}

void wg_cluster_users_poll(struct wg_cluster *cl)
{
	char key[160], nodes[96];
	const char *argv[7];
	size_t lens[7];

	node_key(cl, key, sizeof(key));
	snprintf(nodes, sizeof(nodes), "%snodes", cl->prefix);
	cmd(cl, 3, (const char *[]){"EXPIRE", key, NODE_TTL});
	argv[0] = "EVAL";
	argv[1] = wg_cluster_count_script;
	argv[2] = "1";
	argv[3] = nodes;
	argv[4] = cl->node;
	argv[5] = cl->prefix;
	/* This node's other workers are left out: the workers of one node
	 * already share their counts (session/user_count.h). */
	argv[6] = cl->workers_node;
	for (int i = 0; i < 7; i++)
		lens[i] = strlen(argv[i]);
	wg_redis_command(cl->redis, 7, argv, lens, got_counts, cl, NULL);
}

void wg_cluster_users_free(struct wg_cluster *cl)
{
	if (cl->elsewhere)
		wg_hashmap_free_owned(cl->elsewhere);
	cl->elsewhere = NULL;
}

unsigned wg_cluster_user_sessions_elsewhere(struct wg_server *srv, const char *user)
{
	struct wg_cluster *cl = srv->cluster;
	char key[USER_KEY_LEN];
	unsigned *v;

	if (!cl || !cl->elsewhere || strlen(user) >= sizeof(key))
		return 0;
	memset(key, 0, sizeof(key));
	memcpy(key, user, strlen(user));
	v = wg_hashmap_get(cl->elsewhere, key);
	return v ? *v : 0;
}
