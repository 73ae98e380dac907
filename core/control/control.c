/* Serving the control socket on the event loop. A request is read until a
 * newline or EOF (bounded), answered from the session tables, and the reply
 * is written through an evbuffer as the socket accepts it, so a slow client
 * never stalls the loop. Every reply is a JSON object built with jansson. */
#include "control/control.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "net/ban.h"
#include "control/control_proto.h"
#include "observe/events.h"
#include "modules/gen.h"
#include "hashmap.h"
#include "tunnel/lane.h"
#include "util/log.h"
#include "observe/metrics.h"
#include "control/metrics_http.h"
#include "host/reload.h"
#include "server.h"
#include "session/session.h"
#include "util/utf8.h"

#define CLIENT_TIMEOUT_S 5

struct wg_control {
	struct wg_server *srv;
	int fd;
	struct event *ev;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	time_t started;
	struct ctl_client *clients; /* open connections, freed at stop */
};

struct ctl_client {
	struct wg_control *ctl;
	int fd;
	struct event *rev, *wev, *timer;
	struct evbuffer *out;
	char buf[WG_CONTROL_MAX_REQUEST + 1];
	size_t len;
	struct ctl_client *prev, *next;
};

static void client_free(struct ctl_client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->ctl->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	event_free(c->rev);
	event_free(c->wev);
	event_free(c->timer);
	evbuffer_free(c->out);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* "established": packets flow over a lane beside CSTP (DTLS); "offered":
 * the tunnel is up over TLS and a lane was offered but is not (yet) up;
 * "off": no lane for it. */
static const char *dtls_state(const struct wg_session *s)
{
	if (s->active)
		return "established";
	return s->cstp && s->lanes ? "offered" : "off";
}

/* Text a client chose, as a JSON string: jansson refuses ill-formed UTF-8,
 * and one such byte in a user name or User-Agent would otherwise hide the
 * whole session from list and show. NULL becomes null. */
static json_t *session_json(const struct wg_session *s, time_t now);

static json_t *client_text(const char *s)
{
	if (!s)
		return json_null();
	if (wg_utf8_valid(s))
		return json_string(s);
	char *clean = wg_utf8_sanitize(s);
	json_t *v = clean ? json_string(clean) : NULL;
	free(clean);
	return v;
}

json_t *wg_control_session_json(const struct wg_session *s, time_t now)
{
	json_t *o = session_json(s, now), *lanes = wg_lanes_json(s);

	if (o && lanes)
		json_object_set_new(o, "transports", lanes);
	else
		json_decref(lanes);
	return o;
}

static json_t *session_json(const struct wg_session *s, time_t now)
{
	json_t *groups = json_array();
	for (unsigned i = 0; i < s->n_groups; i++)
		if (s->groups[i])
			json_array_append_new(groups, client_text(s->groups[i]));
	json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:s, s:s?, s:s?, s:s, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, "
			 "s:o, s:o, s:I}",
			 "id", s->id_str, "user", client_text(s->user), "group", client_text(s->group[0] ? s->group : NULL),
			 "groups", groups, "client_address", s->client_addr,
			 "vpn_address", s->tc.addr4[0] ? s->tc.addr4 : NULL, "vpn_address6", s->tc.addr6[0] ? s->tc.addr6 : NULL,
			 "tunnel", s->cstp ? "connected" : "waiting-for-reconnect", "dtls", s->active != NULL,
			 "dtls_state", dtls_state(s), "rx_bytes", (json_int_t)s->rx_bytes, "tx_bytes",
			 (json_int_t)s->tx_bytes, "rx_packets", (json_int_t)s->rx_pkts, "tx_packets",
			 (json_int_t)s->tx_pkts, "uptime_s", (json_int_t)(now - s->created), "login_time",
			 (json_int_t)s->created, "user_agent", client_text(s->user_agent), "client_version",
			 client_text(wg_session_attr(s, "client-version")), "client_platform",
			 client_text(wg_session_attr(s, "client-platform")),
			 "config_generation", (json_int_t)(s->gen ? s->gen->number : 0));
	/* The session's limits (session/limits.c): what it was held to. */
	if (o) {
		json_object_set_new(o, "filtered_packets", json_integer((json_int_t)s->filtered_pkts));
		json_object_set_new(o, "rx_limit_kbps", json_integer(s->rate_in_kbps));
		json_object_set_new(o, "tx_limit_kbps", json_integer(s->rate_out_kbps));
		json_object_set_new(o, "data_quota", json_integer((json_int_t)s->quota_bytes));
		json_object_set_new(o, "quota_reached", json_boolean(s->quota_reached));
		if (s->period_quota) { /* period-data-quota: the user's, all sessions, at the last flush */
			json_object_set_new(o, "period_data_quota", json_integer((json_int_t)s->period_quota));
			json_object_set_new(o, "period_data_used",
					    json_integer((json_int_t)(s->period_base + s->rx_bytes + s->tx_bytes -
								      s->period_flushed)));
		}
		if (wg_session_vhost_name(s)) /* logged in under a vhost's server name */
			json_object_set_new(o, "vhost", json_string(wg_session_vhost_name(s)));
	}
	return o;
}

static bool matches(const struct wg_session *s, const struct wg_control_req *req)
{
	return (req->id[0] && strcmp(s->id_str, req->id) == 0) || (req->user[0] && strcmp(s->user, req->user) == 0);
}

static json_t *do_status(struct wg_control *ctl)
{
	struct wg_server *srv = ctl->srv;
	json_t *plugins = json_array();

	for (size_t i = 0; i < srv->plugins.n; i++) {
		const struct wg_plugin *d = srv->plugins.v[i].desc;
		json_array_append_new(plugins, json_pack("{s:s, s:s, s:s}", "name", d->name, "version",
							 d->version ? d->version : "?", "kind",
							 wg_plugin_kind_name(d->kind)));
	}
	struct wg_metrics m;
	uint64_t ok = 0, failed = 0;
	wg_metrics_snapshot(srv, &m);
	for (unsigned i = 0; i < m.n_backends; i++) {
		ok += m.backends[i].success;
		failed += m.backends[i].failure;
	}
	json_t *counters = json_pack(
		"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "logins_ok", (json_int_t)ok,
		"logins_failed", (json_int_t)failed, "bans_active", (json_int_t)m.bans_active, "bans_total",
		(json_int_t)m.bans_total, "ban_refused_connections", (json_int_t)m.ban_refused,
		"ban_tracked_addresses", (json_int_t)m.ban_tracked, "rx_bytes", (json_int_t)m.rx_bytes, "tx_bytes",
		(json_int_t)m.tx_bytes, "rx_packets", (json_int_t)m.rx_packets, "tx_packets", (json_int_t)m.tx_packets,
		"reloads_ok", (json_int_t)m.reloads_ok, "reloads_failed", (json_int_t)m.reloads_failed, "sessions_dtls",
		(json_int_t)m.sessions_dtls, "sessions_cstp", (json_int_t)m.sessions_cstp);
	unsigned alive = 0;
	for (const struct wg_gen *g = srv->gens; g; g = g->next)
		alive++;
	return json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "ok", 1, "version", WG_VERSION, "uptime_s",
			 (json_int_t)(time(NULL) - ctl->started), "sessions", (json_int_t)srv->n_sessions,
			 "unauthenticated_connections", (json_int_t)srv->n_conns_unauth, "config_generation",
			 (json_int_t)(srv->gen ? srv->gen->number : 0), "config_generations_alive", (json_int_t)alive,
			 "counters", counters, "plugins", plugins);
}

static json_t *do_reload(struct wg_control *ctl)
{
	char msg[4096];

	if (wg_reload(ctl->srv, msg, sizeof(msg)) < 0)
		return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
	return json_pack("{s:b, s:s, s:I}", "ok", 1, "message", msg, "config_generation",
			 (json_int_t)ctl->srv->gen->number);
}

static json_t *error_reply(const char *why);

static json_t *do_ban(struct wg_control *ctl, const struct wg_control_req *req)
{
	struct wg_server *srv = ctl->srv;
	char canon[64];
	unsigned secs = req->seconds ? (unsigned)req->seconds : srv->ban_time;

	if (wg_ban_canonical(srv->bans, req->addr, canon, sizeof(canon)) < 0)
		return error_reply("\"addr\" is not an IPv4 or IPv6 address");
	int rc = wg_ban_add(srv->bans, canon, secs, time(NULL));
	if (rc < 0)
		return error_reply(rc == -ENOSPC ? "the ban table is full (ban-max-entries)" : "cannot ban that address");
	wg_log(NULL, WG_LOG_NOTICE, "%s: banned for %u s by the administrator", canon, secs);
	wg_cluster_ban(srv, canon, secs); /* every node of a cluster */
	wg_events_emit(srv, "ban",
		       json_pack("{s:s, s:I, s:s}", "client_address", canon, "seconds", (json_int_t)secs, "reason",
				 "administrator"));
	return json_pack("{s:b, s:s, s:I}", "ok", 1, "addr", canon, "seconds", (json_int_t)secs);
}

static json_t *do_unban(struct wg_control *ctl, const struct wg_control_req *req)
{
	char canon[64];

	if (wg_ban_canonical(ctl->srv->bans, req->addr, canon, sizeof(canon)) < 0)
		return error_reply("\"addr\" is not an IPv4 or IPv6 address");
	int rc = wg_ban_remove(ctl->srv->bans, canon, time(NULL));
	wg_cluster_unban(ctl->srv, canon);
	if (rc > 0)
		wg_log(NULL, WG_LOG_NOTICE, "%s: unbanned by the administrator", canon);
	return json_pack("{s:b, s:s, s:b}", "ok", 1, "addr", canon, "was_banned", rc > 0);
}

static void ban_json(const struct wg_ban_info *b, void *arg)
{
	time_t now = time(NULL);
	json_array_append_new(arg, json_pack("{s:s, s:I, s:I, s:I, s:s}", "addr", b->addr, "until", (json_int_t)b->until,
					     "remaining_s", (json_int_t)(b->until > now ? b->until - now : 0), "failures",
					     (json_int_t)b->failures, "reason",
					     b->manual ? "administrator" : "failed logins"));
}

static json_t *do_bans(struct wg_control *ctl)
{
	json_t *list = json_array();

	wg_ban_foreach(ctl->srv->bans, time(NULL), ban_json, list);
	return json_pack("{s:b, s:o}", "ok", 1, "bans", list);
}

static json_t *do_sessions(struct wg_control *ctl, const struct wg_control_req *req)
{
	size_t n;
	void **all = wg_hashmap_values(ctl->srv->by_cookie, &n);
	json_t *list = json_array();
	time_t now = time(NULL);

	for (size_t i = 0; i < n; i++) {
		const struct wg_session *s = all[i];
		if (!s->ending && (req->cmd == WG_CTL_LIST || matches(s, req)))
			json_array_append_new(list, wg_control_session_json(s, now));
	}
	free(all);
	return json_pack("{s:b, s:o}", "ok", 1, "sessions", list);
}

static json_t *do_disconnect(struct wg_control *ctl, const struct wg_control_req *req)
{
	size_t n, ended = 0;
	void **all = wg_hashmap_values(ctl->srv->by_cookie, &n);
	json_t *ids = json_array();

	for (size_t i = 0; i < n; i++) {
		struct wg_session *s = all[i];
		if (s->ending || !matches(s, req))
			continue;
		json_array_append_new(ids, json_string(s->id_str));
		wg_session_end(s, "disconnected by the administrator");
		ended++;
	}
	free(all);
	return json_pack("{s:b, s:I, s:o}", "ok", 1, "disconnected", (json_int_t)ended, "ids", ids);
}

static json_t *error_reply(const char *why)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", why);
}

static json_t *handle(struct wg_control *ctl, const char *buf, size_t len)
{
	struct wg_control_req req;
	char err[256];

	if (wg_control_parse(buf, len, &req, err, sizeof(err)) < 0)
		return error_reply(err);
	switch (req.cmd) {
	case WG_CTL_STATUS:
		return do_status(ctl);
	case WG_CTL_LIST:
	case WG_CTL_SHOW:
		return do_sessions(ctl, &req);
	case WG_CTL_DISCONNECT:
		return do_disconnect(ctl, &req);
	case WG_CTL_RELOAD:
		return do_reload(ctl);
	case WG_CTL_BAN:
		return do_ban(ctl, &req);
	case WG_CTL_UNBAN:
		return do_unban(ctl, &req);
	case WG_CTL_BANS:
		return do_bans(ctl);
	default:
		return error_reply("unknown command");
	}
}

static void on_client_write(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client *c = arg;

	(void)what;
	if (evbuffer_write(c->out, fd) < 0 && errno != EAGAIN) {
		client_free(c);
		return;
	}
	if (evbuffer_get_length(c->out) == 0)
		client_free(c); /* one request per connection */
	else
		event_add(c->wev, NULL);
}

static void reply(struct ctl_client *c, json_t *answer)
{
	char *text = answer ? json_dumps(answer, JSON_COMPACT) : NULL;

	json_decref(answer);
	if (!text)
		text = strdup("{\"ok\":false,\"error\":\"out of memory\"}");
	event_del(c->rev);
	evbuffer_add(c->out, text, strlen(text));
	evbuffer_add(c->out, "\n", 1);
	free(text);
	on_client_write(c->fd, EV_WRITE, c);
}

static void on_client_read(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client *c = arg;
	ssize_t n = read(fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);

	(void)what;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (n > 0 && !memchr(c->buf, '\n', c->len) && c->len < sizeof(c->buf) - 1)
		return; /* more to come */
	if (c->len == 0) {
		client_free(c);
		return;
	}
	if (!memchr(c->buf, '\n', c->len) && c->len >= sizeof(c->buf) - 1) {
		reply(c, error_reply("request too large"));
		return;
	}
	struct wg_control_req req;
	char err[64];
	if (wg_control_parse(c->buf, c->len, &req, err, sizeof(err)) == 0 && req.cmd == WG_CTL_EVENTS) {
		/* The connection becomes an event stream (events.c). */
		int sfd = c->fd;
		struct wg_server *srv = c->ctl->srv;
		c->fd = -1;
		client_free(c);
		wg_events_subscribe(srv, sfd);
		return;
	}
	reply(c, handle(c->ctl, c->buf, c->len));
}

static void on_client_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_free(arg);
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct wg_control *ctl = arg;
	struct timeval tv = {.tv_sec = CLIENT_TIMEOUT_S};

	(void)what;
	for (int i = 0; i < 16; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		struct ctl_client *c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			continue;
		}
		c->ctl = ctl;
		c->fd = cfd;
		c->rev = event_new(ctl->srv->base, cfd, EV_READ | EV_PERSIST, on_client_read, c);
		c->wev = event_new(ctl->srv->base, cfd, EV_WRITE, on_client_write, c);
		c->timer = evtimer_new(ctl->srv->base, on_client_timeout, c);
		c->out = evbuffer_new();
		if (!c->rev || !c->wev || !c->timer || !c->out) {
			if (c->rev) event_free(c->rev);
			if (c->wev) event_free(c->wev);
			if (c->timer) event_free(c->timer);
			if (c->out) evbuffer_free(c->out);
			close(cfd);
			free(c);
			continue;
		}
		c->next = ctl->clients;
		if (ctl->clients)
			ctl->clients->prev = c;
		ctl->clients = c;
		event_add(c->rev, NULL);
		evtimer_add(c->timer, &tv);
	}
}

int wg_control_listen(const char *path, const char *mode)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *end;
	long perm = strtol(mode ? mode : "0600", &end, 8);

	if (*end || perm < 0 || perm > 0777) {
		wg_log(NULL, WG_LOG_ERROR, "control-socket-mode \"%s\" is not an octal mode like 0660", mode);
		return -1;
	}
	if (!path || !*path) {
		wg_log(NULL, WG_LOG_ERROR, "control-socket: no path");
		return -1;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		wg_log(NULL, WG_LOG_ERROR, "control-socket path too long: %s", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* The directory is ours to create (e.g. /run/wolfguard); a stale
	 * socket from a previous run is replaced. */
	char dir[sizeof(sa.sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	mode_t old = umask(0777 & ~(mode_t)perm);
	int rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(path, (mode_t)perm) < 0 || listen(fd, 16) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "control socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	wg_log(NULL, WG_LOG_INFO, "control socket %s (mode %04lo)", path, perm);
	return fd;
}

struct wg_control *wg_control_start(struct wg_server *srv, const char *path, const char *mode)
{
	struct wg_control *ctl = calloc(1, sizeof(*ctl));

	if (!ctl)
		return NULL;
	ctl->srv = srv;
	ctl->started = time(NULL);
	ctl->fd = wg_control_listen(path, mode);
	if (ctl->fd < 0)
		goto fail;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	ctl->ev = event_new(srv->base, ctl->fd, EV_READ | EV_PERSIST, on_accept, ctl);
	if (!ctl->ev || event_add(ctl->ev, NULL) < 0)
		goto fail;
	return ctl;
fail:
	wg_control_stop(ctl);
	return NULL;
}

void wg_control_stop(struct wg_control *ctl)
{
	if (!ctl)
		return;
	while (ctl->clients)
		client_free(ctl->clients);
	if (ctl->ev)
		event_free(ctl->ev);
	if (ctl->fd >= 0) {
		close(ctl->fd);
		unlink(ctl->path);
	}
	free(ctl);
}
