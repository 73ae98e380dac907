/* The cluster store's settings, and the session records each node keeps
 * in Redis for the sessions it holds (cluster.h, docs/cluster.md). */
#include "cluster/cluster.h"
#include "cluster/lease.h"
#include "cluster/member.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/state.h"
#include "cluster/redis.h"
#include "cluster/redis_tls.h"
#include "cluster/scripts.h"
#include "hashmap.h"
#include "net/ban.h"
#include "observe/metrics.h"
#include <hiredis/hiredis.h>
#include "server.h"
#include "session/lease.h"
#include "session/session.h"
#include "util/log.h"

/* Ends that only mean "this node lets go": the record may name another
 * node by now, which then keeps it. */
static bool letting_go(const char *reason)
{
	return strcmp(reason, "cookie expired without a reconnect") == 0 || strcmp(reason, "server shutdown") == 0 ||
	       strcmp(reason, "moved to another node") == 0 || strcmp(reason, "ended on another node") == 0 ||
	       strcmp(reason, "not adopted") == 0 || strcmp(reason, "address lease lapsed") == 0;
}

/* Sends argv[0..n) as one command; failures are the outage's, logged once by redis.c. */
static void send_args(struct wg_cluster *cl, const struct wg_cluster_argv *a)
{
	wg_redis_command(cl->redis, (int)a->n, (const char **)a->v, a->len, NULL, NULL, NULL);
}

static void send3(struct wg_cluster *cl, const char *a, const char *b, const char *c)
{
	const char *argv[3] = {a, b, c};
	size_t lens[3] = {strlen(a), b ? strlen(b) : 0, c ? strlen(c) : 0};
	wg_redis_command(cl->redis, c ? 3 : b ? 2 : 1, argv, lens, NULL, NULL, NULL);
}

static void record_of(const struct wg_cluster *cl, const struct wg_session *s, struct wg_cluster_record *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->user, sizeof(r->user), "%s", s->user);
	snprintf(r->group, sizeof(r->group), "%s", s->group);
	for (unsigned i = 0; i < s->n_groups && i < WG_CLUSTER_MAX_GROUPS; i++)
		if (s->groups[i])
			r->groups[r->n_groups++] = s->groups[i]; /* borrowed: encode only */
	for (unsigned i = 0; i < s->n_attrs && i < WG_CLUSTER_MAX_ATTRS; i++) {
		r->attr_key[r->n_attrs] = s->attrs[i].key;
		r->attr_value[r->n_attrs++] = s->attrs[i].value;
	}
	memcpy(r->addr4, s->tc.addr4, sizeof(r->addr4));
	memcpy(r->mask4, s->tc.netmask4, sizeof(r->mask4));
	memcpy(r->addr6, s->tc.addr6, sizeof(r->addr6));
	r->prefix6 = s->tc.prefix6;
	r->mtu = s->tc.mtu;
	r->dpd = s->tc.dpd_s;
	r->keepalive = s->tc.keepalive_s;
	r->idle = s->tc.idle_timeout_s;
	r->stimeout = s->tc.session_timeout_s;
	r->rate = s->tc.rate_limit_kbps;
	r->pushed = s->pushed;
	snprintf(r->node, sizeof(r->node), "%s", cl->node);
	snprintf(r->client, sizeof(r->client), "%s", s->client_addr);
	r->created = (int64_t)s->created;
	for (unsigned i = 0; i < s->n_auth_steps; i++) {
		size_t used = strlen(r->auth);
		const char *name = s->auth_steps[i]->desc->name;
		if (used + strlen(name) + 2 < sizeof(r->auth))
			snprintf(r->auth + used, sizeof(r->auth) - used, "%s%s", used ? "," : "", name);
	}
}

/* MULTI, DEL, HSET (the whole record), EXPIRE ttl, EXEC: a reader sees the
 * old record or the new one, never a mix, and never one without a TTL. */
static void publish(struct wg_cluster *cl, struct wg_session *s, unsigned ttl)
{
	char key[160], hash[WG_CLUSTER_HASH_HEX], ttl_text[16];
	struct wg_cluster_record r;
	struct wg_cluster_argv hset = {0};

	if (!s->pushed || s->ending || !wg_redis_is_up(cl->redis))
		return;
	if (wg_cluster_key_for(cl, s->cookie, key, sizeof(key), hash) < 0)
		return;
	record_of(cl, s, &r);
	if (wg_cluster_argv_add(&hset, "HSET", 4) < 0 || wg_cluster_argv_add(&hset, key, strlen(key)) < 0 ||
	    wg_cluster_record_encode(&r, &hset) < 0) {
		wg_log(s, WG_LOG_WARN, "cluster: session record not written: out of memory");
		wg_cluster_argv_free(&hset);
		return;
	}
	snprintf(ttl_text, sizeof(ttl_text), "%u", ttl);
	send3(cl, "MULTI", NULL, NULL);
	send3(cl, "DEL", key, NULL);
	send_args(cl, &hset);
	send3(cl, "EXPIRE", key, ttl_text);
	send3(cl, "EXEC", NULL, NULL);
	wg_cluster_argv_free(&hset);
	wg_cluster_lease_renew(cl, s, hash);
	wg_log(s, WG_LOG_DEBUG, "cluster: record %.8s written (ttl %u s)", hash, ttl);
}

/* Every session with a live tunnel here: its record again. */
static void publish_live(struct wg_cluster *cl)
{
	wg_cluster_users_rewrite(cl);
	size_t n;
	void **all = wg_hashmap_values(cl->srv->by_cookie, &n);

	for (size_t i = 0; all && i < n; i++) {
		struct wg_session *s = all[i];
		/* Tunnels up here (a session whose TLS connection dropped lingers,
		 * even while a DTLS lane of it is still open). */
		if (s->cstp) {
			publish(cl, s, cl->srv->cookie_lifetime);
		} else if (s->cluster_lease_until) {
			/* Lingering, or still logging in: the record is not
			 * renewed (the cookie lapses as on one node), but the
			 * address stays this session's while it exists here. */
			char key[160], hash[WG_CLUSTER_HASH_HEX];
			if (wg_cluster_key_for(cl, s->cookie, key, sizeof(key), hash) == 0)
				wg_cluster_lease_renew(cl, s, hash);
		}
	}
	free(all);
}

static unsigned refresh_interval(const struct wg_server *srv)
{
	unsigned t = srv->cookie_lifetime / 3;
	return t ? t : 1;
}

static void refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	struct wg_cluster *cl = arg;
	struct timeval tv = {.tv_sec = refresh_interval(cl->srv)};

	(void)fd;
	(void)what;
	publish_live(cl);
	evtimer_add(cl->refresh, &tv);
}

/* Redis is (again) there: it may have restarted empty, or missed records
 * while it was away. */
static void on_up(void *arg)
{
	publish_live(arg);
}

void wg_cluster_session_up(struct wg_session *s)
{
	if (!s->srv->cluster)
		return;
	/* Packets to its addresses come to this worker from now on, also when
	 * another worker of this node holds a stale copy (lease.h). */
	wg_session_steer_take(s);
	publish(s->srv->cluster, s, s->srv->cookie_lifetime);
	wg_cluster_users_up(s->srv->cluster, s);
}

void wg_cluster_session_detached(struct wg_session *s)
{
	if (s->srv->cluster)
		publish(s->srv->cluster, s, s->srv->cookie_lifetime);
}

void wg_cluster_session_ended(struct wg_session *s, const char *reason)
{
	struct wg_cluster *cl = s->srv->cluster;
	char key[160], hash[WG_CLUSTER_HASH_HEX];

	if (!cl)
		return;
	wg_cluster_users_ended(cl, s);
	if (wg_cluster_key_for(cl, s->cookie, key, sizeof(key), hash) < 0)
		return;
	if (!wg_redis_is_up(cl->redis)) {
		if (!letting_go(reason))
			wg_log(s, WG_LOG_WARN,
			       "cluster: redis unavailable: the ended session's record %.8s stays until its TTL runs out", hash);
		return;
	}
	/* The record goes, and the session's address leases if they are
	 * still its own; only when the record still names this node if this
	 * node merely lets go (another node may hold the session now). */
	char leases[2][128], nkeys[12];
	unsigned n = wg_cluster_lease_keys(cl, s, leases);
	const char *argv[8] = {"EVAL", wg_cluster_end_script, nkeys, key};
	int argc = 4;
	snprintf(nkeys, sizeof(nkeys), "%u", 1 + n);
	for (unsigned i = 0; i < n; i++)
		argv[argc++] = leases[i];
	argv[argc++] = letting_go(reason) ? cl->node : "";
	argv[argc++] = hash;
	size_t lens[8];
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	wg_redis_command(cl->redis, argc, argv, lens, NULL, NULL, NULL);
	s->cluster_lease_until = 0;
}

#define BAN_SYNC_S 2

static void bans_key(const struct wg_cluster *cl, char *out, size_t len)
{
	snprintf(out, len, "%sbans", cl->prefix);
}

static void unbans_key(const struct wg_cluster *cl, char *out, size_t len)
{
	snprintf(out, len, "%sunbans", cl->prefix);
}

void wg_cluster_ban(struct wg_server *srv, const char *addr, unsigned seconds)
{
	struct wg_cluster *cl = srv->cluster;
	char key[96], canon[64], until[24];

	if (!cl || !srv->bans || wg_ban_canonical(srv->bans, addr, canon, sizeof(canon)) < 0)
		return;
	if (!wg_redis_is_up(cl->redis)) {
		wg_log(NULL, WG_LOG_WARN, "cluster: redis unavailable: the ban of %s stays on this node", canon);
		return;
	}
	bans_key(cl, key, sizeof(key));
	snprintf(until, sizeof(until), "%lld", (long long)time(NULL) + seconds);
	/* GT: a shorter ban never shortens a longer one already shared. */
	const char *argv[5] = {"ZADD", key, "GT", until, canon};
	size_t lens[5];
	for (int i = 0; i < 5; i++)
		lens[i] = strlen(argv[i]);
	wg_redis_command(cl->redis, 5, argv, lens, NULL, NULL, NULL);
	/* A ban set with no live entry need not stay. */
	send3(cl, "EXPIRE", key, "31536000");
}

/* An unban reaches every node through the unban set: member the address,
 * score the unban's time. The ban's entry leaves the ban set in the same
 * pipeline, so a node that reads the ban set after it does not ban again. */
void wg_cluster_unban(struct wg_server *srv, const char *addr)
{
	struct wg_cluster *cl = srv->cluster;
	char key[96], ukey[96], canon[64], now[24];

	if (!cl || !srv->bans || wg_ban_canonical(srv->bans, addr, canon, sizeof(canon)) < 0)
		return;
	if (!wg_redis_is_up(cl->redis)) {
		wg_log(NULL, WG_LOG_WARN, "cluster: redis unavailable: the unban of %s stays on this node", canon);
		return;
	}
	bans_key(cl, key, sizeof(key));
	unbans_key(cl, ukey, sizeof(ukey));
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	send3(cl, "ZREM", key, canon);
	const char *argv[4] = {"ZADD", ukey, now, canon};
	size_t lens[4] = {4, strlen(ukey), strlen(now), strlen(canon)};
	wg_redis_command(cl->redis, 4, argv, lens, NULL, NULL, NULL);
	send3(cl, "EXPIRE", ukey, "3600");
	wg_cluster_failures_forget(cl, canon); /* as the local unban forgets its count */
}

static void remember_shared_ban(struct wg_cluster *cl, const char *addr)
{
	if (cl->n_shared_bans == cl->cap_shared_bans) {
		size_t cap = cl->cap_shared_bans ? cl->cap_shared_bans * 2 : 16;
		char(*more)[64] = realloc(cl->shared_bans, cap * sizeof(*more));
		if (!more)
			return; /* an unban of it may then apply over a newer ban: logged there */
		cl->shared_bans = more;
		cl->cap_shared_bans = cap;
	}
	snprintf(cl->shared_bans[cl->n_shared_bans++], sizeof(cl->shared_bans[0]), "%s", addr);
}

static bool is_shared_ban(const struct wg_cluster *cl, const char *addr)
{
	for (size_t i = 0; i < cl->n_shared_bans; i++)
		if (strcmp(cl->shared_bans[i], addr) == 0)
			return true;
	return false;
}

/* The unban set, read right after the ban set (same connection, so in that
 * order). An unban lifts the address's ban here, unless the ban set holds
 * the address again: banned anew after the unban (its entry left the ban set
 * with the unban). Entries are read from the newest one applied, inclusive,
 * as the kick set's; lifting a ban that is not there does nothing. */
static void got_unbans(const struct redisReply *reply, const char *error, void *arg)
{
	struct wg_cluster *cl = arg;
	struct wg_server *srv = cl->srv;
	time_t now = time(NULL);

	(void)error;
	if (!reply || reply->type != REDIS_REPLY_ARRAY || !srv->bans || !cl->shared_bans_read)
		return;
	for (size_t i = 0; i + 1 < reply->elements; i += 2) {
		const redisReply *m = reply->element[i], *t = reply->element[i + 1];
		char text[64], canon[64];
		if (m->type != REDIS_REPLY_STRING || t->type != REDIS_REPLY_STRING || m->len == 0 || m->len >= sizeof(text))
			continue;
		memcpy(text, m->str, m->len);
		text[m->len] = '\0';
		int64_t when = strtoll(t->str, NULL, 10);
		if (when > cl->unban_seen)
			cl->unban_seen = when;
		if (wg_ban_canonical(srv->bans, text, canon, sizeof(canon)) < 0 || is_shared_ban(cl, canon))
			continue;
		if (wg_ban_remove(srv->bans, canon, now) == 1)
			wg_log(NULL, WG_LOG_NOTICE, "%s: unbanned (an unban shared by another node or wolfguardctl --cluster)",
			       canon);
	}
}

/* Reads a request set (a sorted set scored by the request's time: kicks,
 * unbans) from `seen` on, inclusive, so that two requests within one second
 * are both read (one read again does nothing more); requests older than an
 * hour are done with (the set's TTL too) and removed first. */
static void poll_requests(struct wg_cluster *cl, const char *key, int64_t seen, wg_redis_cb got)
{
	char from[24], old[24];

	snprintf(from, sizeof(from), "%lld", (long long)seen);
	snprintf(old, sizeof(old), "%lld", (long long)time(NULL) - 3600);
	const char *rm[4] = {"ZREMRANGEBYSCORE", key, "-inf", old};
	const char *rd[5] = {"ZRANGEBYSCORE", key, from, "+inf", "WITHSCORES"};
	size_t rml[4], rdl[5];
	for (int i = 0; i < 4; i++)
		rml[i] = strlen(rm[i]);
	for (int i = 0; i < 5; i++)
		rdl[i] = strlen(rd[i]);
	wg_redis_command(cl->redis, 4, rm, rml, NULL, NULL, NULL);
	wg_redis_command(cl->redis, 5, rd, rdl, got, cl, NULL);
}

static void poll_unbans(struct wg_cluster *cl)
{
	char key[96];

	unbans_key(cl, key, sizeof(key));
	poll_requests(cl, key, cl->unban_seen, got_unbans);
}

static void got_bans(const struct redisReply *reply, const char *error, void *arg)
{
	struct wg_cluster *cl = arg;
	struct wg_server *srv = cl->srv;
	time_t now = time(NULL);

	(void)error;
	cl->n_shared_bans = 0;
	cl->shared_bans_read = false;
	if (!reply || reply->type != REDIS_REPLY_ARRAY || !srv->bans)
		return;
	cl->shared_bans_read = true;
	for (size_t i = 0; i + 1 < reply->elements; i += 2) {
		const redisReply *a = reply->element[i], *u = reply->element[i + 1];
		char addr[64];
		unsigned left;
		if (a->type != REDIS_REPLY_STRING || u->type != REDIS_REPLY_STRING)
			continue;
		left = wg_cluster_parse_ban(a->str, a->len, u->str, u->len, (int64_t)now, addr, sizeof(addr));
		if (left)
			remember_shared_ban(cl, addr);
		/* Applied when it is new here or ends later than ours. */
		if (!left || wg_ban_remaining(srv->bans, addr, now) + 1 >= left)
			continue;
		if (wg_ban_add(srv->bans, addr, left, now) == 0)
			wg_log(NULL, WG_LOG_NOTICE, "%s: banned for %u s (a ban shared by another node)", addr, left);
	}
}

/* wolfguardctl --cluster disconnect USER: "user:NAME" in the kick set,
 * scored with the request's time. Each node ends that user's sessions
 * that began before it (a login after the request stays), once. */
static void got_kicks(const struct redisReply *reply, const char *error, void *arg)
{
	struct wg_cluster *cl = arg;

	(void)error;
	if (!reply || reply->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i + 1 < reply->elements; i += 2) {
		const redisReply *m = reply->element[i], *t = reply->element[i + 1];
		char user[128];
		if (m->type != REDIS_REPLY_STRING || t->type != REDIS_REPLY_STRING || m->len < 6 ||
		    memcmp(m->str, "user:", 5) != 0 || m->len - 5 >= sizeof(user))
			continue;
		int64_t when = strtoll(t->str, NULL, 10);
		memcpy(user, m->str + 5, m->len - 5);
		user[m->len - 5] = '\0';
		if (when > cl->kick_seen)
			cl->kick_seen = when;
		size_t n;
		unsigned ended = 0;
		void **all = wg_hashmap_values(cl->srv->by_cookie, &n);
		for (size_t k = 0; all && k < n; k++) {
			struct wg_session *s = all[k];
			if (!s->ending && strcmp(s->user, user) == 0 && (int64_t)s->created <= when) {
				wg_session_end(s, "disconnected by an administrator (cluster)");
				ended++;
			}
		}
		free(all);
		if (ended)
			wg_log(NULL, WG_LOG_NOTICE, "cluster: %u sessions of %s ended (wolfguardctl --cluster disconnect)", ended,
			       user);
	}
}

static void poll_kicks(struct wg_cluster *cl)
{
	char key[96];

	snprintf(key, sizeof(key), "%skick", cl->prefix);
	poll_requests(cl, key, cl->kick_seen, got_kicks);
}

static void ban_sync_cb(evutil_socket_t fd, short what, void *arg)
{
	struct wg_cluster *cl = arg;
	struct timeval tv = {.tv_sec = BAN_SYNC_S};
	char key[96], now_text[24];

	(void)fd;
	(void)what;
	if (wg_redis_is_up(cl->redis)) {
		bans_key(cl, key, sizeof(key));
		snprintf(now_text, sizeof(now_text), "(%lld", (long long)time(NULL));
		const char *argv[5] = {"ZRANGEBYSCORE", key, now_text, "+inf", "WITHSCORES"};
		size_t lens[5];
		for (int i = 0; i < 5; i++)
			lens[i] = strlen(argv[i]);
		/* Entries that ended go first (bounded by the bans that ended). */
		const char *rm[4] = {"ZREMRANGEBYSCORE", key, "-inf", now_text + 1};
		size_t rml[4] = {16, strlen(key), 4, strlen(now_text + 1)};
		wg_redis_command(cl->redis, 4, rm, rml, NULL, NULL, NULL);
		wg_redis_command(cl->redis, 5, argv, lens, got_bans, cl, NULL);
		poll_unbans(cl);
		wg_cluster_users_poll(cl);
		poll_kicks(cl);
	}
	wg_cluster_lease_fence(cl);
	evtimer_add(cl->ban_sync, &tv);
}

/* Reads a whole small file (key, password). Returns its length or -1. */
static ssize_t read_small(const char *path, uint8_t *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -1;
	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	return (ssize_t)len;
}

/* "IP:PORT", "[IPV6]:PORT" or "unix:/path" into the options. */
static int parse_address(const char *text, char *host, size_t hostlen, struct wg_redis_opts *o)
{
	const char *colon;
	uint8_t buf[16];

	if (strncmp(text, "unix:", 5) == 0) {
		o->unix_path = text + 5;
		return text[5] == '/' ? 0 : -1;
	}
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (!end || end[1] != ':' || (size_t)(end - text - 1) >= hostlen)
			return -1;
		snprintf(host, hostlen, "%.*s", (int)(end - text - 1), text + 1);
		colon = end + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || (size_t)(colon - text) >= hostlen)
			return -1;
		snprintf(host, hostlen, "%.*s", (int)(colon - text), text);
	}
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -1;
	/* An address, not a name: a name lookup would block the loop. */
	if (inet_pton(strchr(host, ':') ? AF_INET6 : AF_INET, host, buf) != 1)
		return -1;
	o->host = host;
	o->port = (int)port;
	return 0;
}

int wg_cluster_start(struct wg_server *srv)
{
	const struct wg_config *c = srv->scfg;
	const char *addr = wg_config_string(c, "cluster-redis");
	const char *keyfile = wg_config_string(c, "cluster-key-file");
	const char *pwfile = wg_config_string(c, "cluster-redis-password-file");
	const char *node = wg_config_string(c, "cluster-node");
	struct wg_redis_opts o = {0};
	char host[64], password[512];
	struct wg_cluster *cl;
	struct wg_redis_tls *tls = NULL;
	ssize_t n;

	srv->cluster = NULL;
	if (!addr || !*addr)
		return 0;
	if (!keyfile) {
		wg_log(NULL, WG_LOG_ERROR, "cluster-redis is set but cluster-key-file is not (docs/cluster.md)");
		return -1;
	}
	if (parse_address(addr, host, sizeof(host), &o) < 0) {
		wg_log(NULL, WG_LOG_ERROR,
		       "cluster-redis: \"%s\" is not IP:PORT, [IPV6]:PORT or unix:/path (an address: a name lookup would block)",
		       addr);
		return -1;
	}
	if (wg_config_bool(c, "cluster-redis-tls") > 0) {
		struct wg_redis_tls_opts to = {
			.ca_file = wg_config_string(c, "cluster-redis-tls-ca"),
			.cert_file = wg_config_string(c, "cluster-redis-tls-cert"),
			.key_file = wg_config_string(c, "cluster-redis-tls-key"),
			.server_name = wg_config_string(c, "cluster-redis-tls-name"),
		};
		char err[256];
		if (o.unix_path) {
			wg_log(NULL, WG_LOG_ERROR, "cluster-redis-tls: not over a unix socket (TLS is for a TCP address)");
			return -1;
		}
		/* A DNS name or an IP address (redis_tls_name.h); what else a
		 * name must be, wg_redis_tls_new() says. */
		if (!to.server_name || !*to.server_name) {
			wg_log(NULL, WG_LOG_ERROR,
			       "cluster-redis-tls needs cluster-redis-tls-name, the DNS name or IP address in Redis's "
			       "certificate");
			return -1;
		}
		if (!(tls = wg_redis_tls_new(&to, err, sizeof(err)))) {
			wg_log(NULL, WG_LOG_ERROR, "cluster-redis-tls: %s", err);
			return -1;
		}
		o.tls = tls;
	}
	if (!(cl = calloc(1, sizeof(*cl)))) {
		wg_redis_tls_free(tls);
		return -1;
	}
	cl->srv = srv;
	cl->tls = tls;
	n = read_small(keyfile, cl->secret, sizeof(cl->secret));
	if (n < WG_CLUSTER_MIN_SECRET) {
		wg_log(NULL, WG_LOG_ERROR, "cluster-key-file %s: %s", keyfile,
		       n < 0 ? strerror(errno) : "shorter than 32 bytes");
		wg_redis_tls_free(cl->tls);
		free(cl);
		return -1;
	}
	cl->secret_len = (size_t)n;
	if (pwfile) {
		n = read_small(pwfile, (uint8_t *)password, sizeof(password) - 1);
		if (n < 0) {
			wg_log(NULL, WG_LOG_ERROR, "cluster-redis-password-file %s: %s", pwfile, strerror(errno));
			explicit_bzero(cl->secret, sizeof(cl->secret));
			wg_redis_tls_free(cl->tls);
			free(cl);
			return -1;
		}
		password[n] = '\0';
		password[strcspn(password, "\r\n")] = '\0';
		o.password = password;
		o.user = wg_config_string(c, "cluster-redis-user");
	}
	snprintf(cl->prefix, sizeof(cl->prefix), "%s", wg_config_string(c, "cluster-prefix"));
	char host_name[64] = "node";
	if (node && *node)
		snprintf(host_name, sizeof(host_name), "%s", node);
	else if (gethostname(host_name, sizeof(host_name) - 1) < 0)
		snprintf(host_name, sizeof(host_name), "node");
	/* Each worker is a member of its own ("NODE/wI"): see member.h. */
	wg_cluster_member_name(host_name, srv->worker.index, srv->worker.count, cl->node, sizeof(cl->node));
	wg_cluster_member_workers_node(cl->node, cl->workers_node, sizeof(cl->workers_node));
	o.timeout_ms = (unsigned)wg_config_int(c, "cluster-timeout-ms");
	cl->timeout_ms = o.timeout_ms;
	cl->shared_pool = wg_config_bool(c, "cluster-shared-pool") > 0;
	cl->kick_seen = (int64_t)time(NULL); /* requests made before this node started are not its */
	cl->unban_seen = cl->kick_seen;
	o.on_up = on_up;
	o.arg = cl;
	cl->refresh = evtimer_new(srv->base, refresh_cb, cl);
	cl->ban_sync = evtimer_new(srv->base, ban_sync_cb, cl);
	cl->redis = cl->refresh && cl->ban_sync ? wg_redis_new(srv->base, &o) : NULL;
	explicit_bzero(password, sizeof(password));
	if (!cl->redis) {
		if (cl->refresh)
			event_free(cl->refresh);
		if (cl->ban_sync)
			event_free(cl->ban_sync);
		explicit_bzero(cl->secret, sizeof(cl->secret));
		wg_redis_tls_free(cl->tls);
		free(cl);
		return -1;
	}
	struct timeval tv = {.tv_sec = refresh_interval(srv)};
	evtimer_add(cl->refresh, &tv);
	struct timeval bt = {.tv_sec = BAN_SYNC_S};
	evtimer_add(cl->ban_sync, &bt);
	srv->cluster = cl;
	char member[96] = "";
	if (srv->worker.count > 1)
		snprintf(member, sizeof(member), " (worker %u of %u)", srv->worker.index, srv->worker.count);
	wg_log(NULL, WG_LOG_NOTICE, "cluster: node %s%s, sessions shared through redis at %s (prefix %s)%s", cl->node,
	       member, wg_redis_name(cl->redis), cl->prefix, cl->shared_pool ? ", addresses from the shared pool" : "");
	return 0;
}

void wg_cluster_stop(struct wg_server *srv)
{
	struct wg_cluster *cl = srv->cluster;

	if (!cl)
		return;
	srv->cluster = NULL;
	wg_redis_free(cl->redis);
	wg_cluster_lease_free(cl);
	wg_cluster_failures_free(cl);
	event_free(cl->refresh);
	event_free(cl->ban_sync);
	wg_cluster_users_free(cl);
	explicit_bzero(cl->secret, sizeof(cl->secret));
	wg_redis_tls_free(cl->tls);
	free(cl->shared_bans);
	free(cl);
}

void wg_cluster_metrics(struct wg_server *srv, struct wg_metrics *m)
{
	m->cluster_on = srv->cluster != NULL;
	m->cluster_redis_up = srv->cluster && wg_redis_is_up(srv->cluster->redis);
}
