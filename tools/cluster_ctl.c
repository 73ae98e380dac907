/* wolfguardctl --cluster ADDR status|sessions: the cluster's shared state
 * read straight from Redis (docs/cluster.md), for every node at once, also
 * for nodes that are down; disconnect USER and ban ADDR written to Redis,
 * where every node reads them within about 2 s. A command-line tool, so plain blocking
 * hiredis with a timeout. Records are checked by the server's own parser
 * (core/cluster/record.c); a record that fails is counted, not shown. */
#include "cluster_ctl.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/member.h"
#include "cluster/record.h"
#include "cluster/redis_tls_ctx.h"
#include "cluster_ctl_tls.h"

/* tls: NULL for plain TCP. */
static redisContext *open_redis(const struct wg_ctl_cluster *o, const struct wg_redis_tls *tls)
{
	struct timeval tv = {.tv_sec = 3};
	redisContext *c;
	char host[64];

	if (strncmp(o->addr, "unix:", 5) == 0)
		c = redisConnectUnixWithTimeout(o->addr + 5, tv);
	else {
		const char *colon = strrchr(o->addr, ':');
		const char *h = o->addr;
		size_t hl = colon ? (size_t)(colon - h) : 0;
		if (!colon || hl == 0 || hl >= sizeof(host)) {
			fprintf(stderr, "wolfguardctl: --cluster %s: want IP:PORT, [IPV6]:PORT or unix:/path\n", o->addr);
			return NULL;
		}
		if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
			h++;
			hl -= 2;
		}
		snprintf(host, sizeof(host), "%.*s", (int)hl, h);
		c = redisConnectWithTimeout(host, atoi(colon + 1), tv);
	}
	if (!c || c->err) {
		fprintf(stderr, "wolfguardctl: cannot reach redis at %s: %s\n", o->addr, c ? c->errstr : "out of memory");
		if (c)
			redisFree(c);
		return NULL;
	}
	/* The timeout bounds each wait of the handshake as of every command. */
	redisSetTimeout(c, tv);
	if (tls) {
		char err[160];
		if (wg_ctl_tls_start(c, tls, err, sizeof(err)) < 0) {
			fprintf(stderr, "wolfguardctl: redis at %s: %s\n", o->addr, err);
			redisFree(c);
			return NULL;
		}
	}
	if (o->password) {
		redisReply *r = o->user ? redisCommand(c, "AUTH %s %s", o->user, o->password)
					: redisCommand(c, "AUTH %s", o->password);
		bool ok = r && r->type != REDIS_REPLY_ERROR;
		if (!ok)
			fprintf(stderr, "wolfguardctl: redis AUTH failed: %s\n", r && r->str ? r->str : c->errstr);
		freeReplyObject(r);
		if (!ok) {
			redisFree(c);
			return NULL;
		}
	}
	return c;
}

/* Every session record: calls fn with each one that parses. */
static int each_record(redisContext *c, const char *prefix, void (*fn)(const struct wg_cluster_record *r, void *arg),
		       void *arg, unsigned *bad)
{
	char cursor[32] = "0", pattern[96];

	snprintf(pattern, sizeof(pattern), "%ss:*", prefix);
	do {
		redisReply *r = redisCommand(c, "SCAN %s MATCH %s COUNT 500", cursor, pattern);
		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			freeReplyObject(r);
			return -1;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str ? r->element[0]->str : "0");
		for (size_t i = 0; i < r->element[1]->elements; i++) {
			redisReply *h = redisCommand(c, "HGETALL %b", r->element[1]->element[i]->str,
						     r->element[1]->element[i]->len);
			if (h && h->type == REDIS_REPLY_ARRAY && h->elements <= 2 * WG_CLUSTER_MAX_FIELDS && h->elements) {
				const char *items[2 * WG_CLUSTER_MAX_FIELDS];
				size_t lens[2 * WG_CLUSTER_MAX_FIELDS];
				struct wg_cluster_record rec;
				char err[128];
				for (size_t k = 0; k < h->elements; k++) {
					items[k] = h->element[k]->str ? h->element[k]->str : "";
					lens[k] = h->element[k]->str ? h->element[k]->len : 0;
				}
				if (wg_cluster_record_parse(items, lens, h->elements, &rec, err, sizeof(err)) == 0) {
					fn(&rec, arg);
					wg_cluster_record_free(&rec);
				} else
					(*bad)++;
			}
			freeReplyObject(h);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

/* Keys matching "<prefix><what>*" (SCAN): the shared pool's leases. -1 on a
 * failed read. */
static long long count_keys(redisContext *c, const char *prefix, const char *what)
{
	char cursor[32] = "0", pattern[160];
	long long n = 0;

	snprintf(pattern, sizeof(pattern), "%s%s*", prefix, what);
	do {
		redisReply *r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			freeReplyObject(r);
			return -1;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str ? r->element[0]->str : "0");
		n += (long long)r->element[1]->elements;
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	return n;
}

static void add_session(const struct wg_cluster_record *r, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "user", r->user, "node", r->node,
					     "addr4", r->addr4, "addr6", r->addr6, "client", r->client, "created",
					     (json_int_t)r->created));
}

static int print(json_t *o, bool as_json, void (*human)(json_t *o))
{
	if (as_json) {
		char *t = json_dumps(o, JSON_COMPACT);
		puts(t ? t : "{}");
		free(t);
	} else if (human)
		human(o);
	json_decref(o);
	return 0;
}

static void human_sessions(json_t *o)
{
	size_t i;
	json_t *s;

	printf("%-20s %-12s %-16s %-24s %s\n", "USER", "NODE", "ADDRESS", "CLIENT", "LOGIN");
	json_array_foreach(json_object_get(o, "sessions"), i, s)
	{
		time_t t = (time_t)json_integer_value(json_object_get(s, "created"));
		char when[32];
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime(&t));
		const char *a4 = json_string_value(json_object_get(s, "addr4"));
		printf("%-20s %-12s %-16s %-24s %s\n", json_string_value(json_object_get(s, "user")),
		       json_string_value(json_object_get(s, "node")), a4 && *a4 ? a4 : json_string_value(json_object_get(s, "addr6")),
		       json_string_value(json_object_get(s, "client")), when);
	}
}

static void human_status(json_t *o)
{
	size_t i;
	json_t *n;

	printf("redis %s: %lld sessions, %lld bans active, %lld unreadable records, %lld address leases "
	       "(shared pool)\n",
	       json_string_value(json_object_get(o, "redis")), json_integer_value(json_object_get(o, "sessions")),
	       json_integer_value(json_object_get(o, "bans_active")), json_integer_value(json_object_get(o, "bad_records")),
	       json_integer_value(json_object_get(o, "leases")));
	json_array_foreach(json_object_get(o, "nodes"), i, n)
		printf("node %-16s %lld sessions\n", json_string_value(json_object_get(n, "node")),
		       json_integer_value(json_object_get(n, "sessions")));
	/* Nodes with several workers: one member per worker above, and the
	 * node's sum here. */
	json_array_foreach(json_object_get(o, "hosts"), i, n)
		printf("host %-16s %lld sessions on %lld workers\n", json_string_value(json_object_get(n, "host")),
		       json_integer_value(json_object_get(n, "sessions")), json_integer_value(json_object_get(n, "workers")));
}

/* The members "NODE/wI" of nodes with several workers, summed per node
 * (core/cluster/member.h): [{host, sessions, workers}]. */
static json_t *hosts_of(json_t *nodes)
{
	json_t *sums = json_object(), *out = json_array(), *n, *v;
	const char *name;
	size_t i;

	json_array_foreach(nodes, i, n)
	{
		const char *member = json_string_value(json_object_get(n, "node"));
		char host[64];
		if (wg_cluster_member_workers_node(member, host, sizeof(host)) < 0 || !host[0])
			continue; /* a node of one worker */
		json_t *h = json_object_get(sums, host);
		if (!h) {
			h = json_pack("{s:s, s:I, s:I}", "host", host, "sessions", (json_int_t)0, "workers", (json_int_t)0);
			json_object_set_new(sums, host, h);
		}
		json_object_set_new(h, "sessions", json_integer(json_integer_value(json_object_get(h, "sessions")) +
								 json_integer_value(json_object_get(n, "sessions"))));
		json_object_set_new(h, "workers", json_integer(json_integer_value(json_object_get(h, "workers")) + 1));
	}
	json_object_foreach(sums, name, v)
		json_array_append(out, v);
	json_decref(sums);
	return out;
}

static void count_node(const struct wg_cluster_record *r, void *arg)
{
	json_t *nodes = arg, *n = json_object_get(nodes, r->node);
	json_object_set_new(nodes, r->node, json_integer(n ? json_integer_value(n) + 1 : 1));
}

/* One write for every node: 0, or 3 with the reason printed. */
static int write_cmd(redisContext *c, int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);
	bool ok = r && r->type != REDIS_REPLY_ERROR;
	if (!ok)
		fprintf(stderr, "wolfguardctl: redis refused %s: %s\n", argv[0], r && r->str ? r->str : c->errstr);
	freeReplyObject(r);
	return ok ? 0 : 3;
}

/* disconnect USER: "user:USER" into the kick set, scored with now; every
 * node ends that user's sessions that began before (core/cluster/cluster.c). */
static int cluster_disconnect(redisContext *c, const struct wg_ctl_cluster *o, const char *user, bool as_json)
{
	char key[96], now[24], member[160];

	if (!*user || strlen(user) >= 128 || strchr(user, '\n')) {
		fprintf(stderr, "wolfguardctl: disconnect: not a user name\n");
		return 2;
	}
	snprintf(key, sizeof(key), "%skick", o->prefix);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	snprintf(member, sizeof(member), "user:%s", user);
	int rc = write_cmd(c, 4, (const char *[]){"ZADD", key, now, member});
	if (!rc)
		rc = write_cmd(c, 3, (const char *[]){"EXPIRE", key, "3600"});
	if (!rc)
		print(json_pack("{s:b, s:s}", "ok", 1, "user", user), as_json, NULL);
	if (!rc && !as_json)
		printf("sessions of %s: ended on every node within about 2 s\n", user);
	return rc;
}

/* ban ADDR [SECONDS]: into the shared ban set as the nodes' own bans go. */
static int cluster_ban(redisContext *c, const struct wg_ctl_cluster *o, const char *addr, const char *secs,
		       bool as_json)
{
	uint8_t buf[16];
	char key[96], until[24], *end;
	long long s = secs ? strtoll(secs, &end, 10) : 3600;

	if (inet_pton(strchr(addr, ':') ? AF_INET6 : AF_INET, addr, buf) != 1 || (secs && (*end || s < 1 || s > 31536000))) {
		fprintf(stderr, "wolfguardctl: ban ADDR [SECONDS]: an IP address and 1..31536000 seconds\n");
		return 2;
	}
	snprintf(key, sizeof(key), "%sbans", o->prefix);
	snprintf(until, sizeof(until), "%lld", (long long)time(NULL) + s);
	int rc = write_cmd(c, 5, (const char *[]){"ZADD", key, "GT", until, addr});
	if (!rc)
		rc = write_cmd(c, 3, (const char *[]){"EXPIRE", key, "31536000"});
	if (!rc)
		print(json_pack("{s:b, s:s, s:I}", "ok", 1, "addr", addr, "seconds", (json_int_t)s), as_json, NULL);
	if (!rc && !as_json)
		printf("%s banned for %llds on every node (within about 2 s)\n", addr, s);
	return rc;
}

/* unban ADDR: out of the shared ban set, into the unban set (scored with
 * now), which every node reads with its ban set and lifts the ban from its
 * own table (docs/cluster.md). */
static int cluster_unban(redisContext *c, const struct wg_ctl_cluster *o, const char *addr, bool as_json)
{
	uint8_t buf[16];
	char key[96], ukey[96], fkey[160], now[24];

	if (inet_pton(strchr(addr, ':') ? AF_INET6 : AF_INET, addr, buf) != 1) {
		fprintf(stderr, "wolfguardctl: unban ADDR: an IP address\n");
		return 2;
	}
	snprintf(key, sizeof(key), "%sbans", o->prefix);
	snprintf(ukey, sizeof(ukey), "%sunbans", o->prefix);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	int rc = write_cmd(c, 3, (const char *[]){"ZREM", key, addr});
	if (!rc)
		rc = write_cmd(c, 4, (const char *[]){"ZADD", ukey, now, addr});
	if (!rc)
		rc = write_cmd(c, 3, (const char *[]){"EXPIRE", ukey, "3600"});
	/* As a node's unban: the address's shared failure count goes too. */
	snprintf(fkey, sizeof(fkey), "%sfail:%s", o->prefix, addr);
	if (!rc)
		rc = write_cmd(c, 2, (const char *[]){"DEL", fkey});
	if (!rc)
		print(json_pack("{s:b, s:s}", "ok", 1, "addr", addr), as_json, NULL);
	if (!rc && !as_json)
		printf("%s unbanned on every node (within about 2 s)\n", addr);
	return rc;
}

static int run(redisContext *c, const struct wg_ctl_cluster *o, const char *cmd, int nargs, char **args, bool as_json);

int wg_ctl_cluster(const struct wg_ctl_cluster *o, const char *cmd, int nargs, char **args, bool as_json)
{
	struct wg_redis_tls *tls = NULL;
	redisContext *c;
	int rc;
	bool reads = strcmp(cmd, "sessions") == 0 || strcmp(cmd, "status") == 0;

	if (!(reads && nargs == 0) && !(strcmp(cmd, "disconnect") == 0 && nargs == 1) &&
	    !(strcmp(cmd, "ban") == 0 && (nargs == 1 || nargs == 2)) && !(strcmp(cmd, "unban") == 0 && nargs == 1)) {
		fprintf(stderr,
			"wolfguardctl: with --cluster: status, sessions, disconnect USER, ban ADDR [SECONDS] or unban ADDR\n");
		return 2;
	}
	if (o->tls_ca || o->tls_name || o->tls_cert || o->tls_key) {
		struct wg_redis_tls_opts to = {.ca_file = o->tls_ca,
					       .server_name = o->tls_name,
					       .cert_file = o->tls_cert,
					       .key_file = o->tls_key,
					       .option_stem = "--cluster-tls"};
		char err[256];
		if (strncmp(o->addr, "unix:", 5) == 0) {
			fprintf(stderr, "wolfguardctl: --cluster-tls-*: not over a unix socket (TLS is for IP:PORT)\n");
			return 2;
		}
		if (!(tls = wg_ctl_tls_new(&to, err, sizeof(err)))) {
			fprintf(stderr, "wolfguardctl: %s\n", err);
			return 2;
		}
	}
	if (!(c = open_redis(o, tls))) {
		wg_ctl_tls_free(tls);
		return 3;
	}
	rc = run(c, o, cmd, nargs, args, as_json);
	redisFree(c);
	wg_ctl_tls_free(tls);
	return rc;
}

static int run(redisContext *c, const struct wg_ctl_cluster *o, const char *cmd, int nargs, char **args, bool as_json)
{
	unsigned bad = 0;
	int rc;

	if (strcmp(cmd, "sessions") != 0 && strcmp(cmd, "status") != 0)
		return strcmp(cmd, "ban") == 0	     ? cluster_ban(c, o, args[0], nargs == 2 ? args[1] : NULL, as_json)
		       : strcmp(cmd, "unban") == 0 ? cluster_unban(c, o, args[0], as_json)
						   : cluster_disconnect(c, o, args[0], as_json);
	if (strcmp(cmd, "sessions") == 0) {
		json_t *list = json_array();
		if (each_record(c, o->prefix, add_session, list, &bad) < 0) {
			fprintf(stderr, "wolfguardctl: reading redis failed: %s\n", c->errstr[0] ? c->errstr : "bad reply");
			json_decref(list);
			rc = 3;
		} else
			rc = print(json_pack("{s:b, s:o, s:I}", "ok", 1, "sessions", list, "bad_records", (json_int_t)bad),
				   as_json, human_sessions);
	} else {
		json_t *per = json_object(), *nodes = json_array(), *v;
		const char *name;
		json_int_t total = 0;
		if (each_record(c, o->prefix, count_node, per, &bad) < 0) {
			fprintf(stderr, "wolfguardctl: reading redis failed: %s\n", c->errstr[0] ? c->errstr : "bad reply");
			json_decref(per);
			json_decref(nodes);
			return 3;
		}
		json_object_foreach(per, name, v)
		{
			json_array_append_new(nodes, json_pack("{s:s, s:O}", "node", name, "sessions", v));
			total += json_integer_value(v);
		}
		json_decref(per);
		redisReply *b = redisCommand(c, "ZCOUNT %sbans (%lld +inf", o->prefix, (long long)time(NULL));
		json_int_t bans = b && b->type == REDIS_REPLY_INTEGER ? (json_int_t)b->integer : 0;
		freeReplyObject(b);
		long long l4 = count_keys(c, o->prefix, "lease4:"), l6 = count_keys(c, o->prefix, "lease6:");
		/* A session with both families holds two keys: counted once. */
		json_int_t leases = l4 < 0 || l6 < 0 ? -1 : (json_int_t)(l4 > l6 ? l4 : l6);
		json_t *hosts = hosts_of(nodes);
		rc = print(json_pack("{s:b, s:s, s:I, s:o, s:o, s:I, s:I, s:I}", "ok", 1, "redis", o->addr, "sessions", total,
				     "nodes", nodes, "hosts", hosts, "bans_active", bans, "bad_records", (json_int_t)bad,
				     "leases", leases),
			   as_json, human_status);
	}
	return rc;
}
