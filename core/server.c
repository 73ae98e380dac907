/* Bringing a worker up and down: plugins, TLS, TUN, sockets, signals. */
#include "server.h"
#include "workers/steer.h"

#include "cluster/cluster.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/addr_count.h"
#include "util/addr.h"
#include "login/auth.h"
#include "net/ban.h"
#include "net/conn.h"
#include "control/control.h"
#include "tunnel/datapath.h"
#include "observe/events.h"
#include "tunnel/lane.h"
#include "net/fd_limit.h"
#include "confine/privdrop.h"
#include "confine/privsep.h"
#include "confine/sandbox_seccomp.h"
#include "session/limits.h"
#include "tunnel/iroute.h"
#include "observe/sd_notify.h"
#include "modules/gen.h"
#include "hashmap.h"
#include "host/host.h"
#include "net/listen_socket.h"
#include "util/log.h"
#include "login/login_limits.h"
#include "login/router.h"
#include "login/session_handlers.h"
#include "observe/metrics.h"
#include "control/metrics_http.h"
#include "host/reload.h"
#include "config/server_options.h"
#include "session/session.h"
#include "net/tls.h"
#include "session/period_quota.h"
#include "session/user_count.h"
#include "util/workpool.h"
#include "util/current.h"
#include "host/settings.h"
#include "host/vhosts.h"
#include "config/vhost_check.h"

#define ACCEPT_BURST 64
#define WORKER_THREADS 4
#define BAN_EXPIRE_S 60
#define STOP_TICK_MS 50
#define STOP_MAX_TICKS 40 /* 2 s for the DISCONNECTs to leave */

/* wg_server_init's promise: every failure says why. */
static int init_failed(const char *why)
{
	wg_log(NULL, WG_LOG_ERROR, "server start: %s", why);
	return -1;
}

static bool sockaddr_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
	if (ss->ss_family == AF_INET)
		return inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out, (socklen_t)len) != NULL;
	if (ss->ss_family == AF_INET6)
		return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, out, (socklen_t)len) != NULL;
	return false;
}

static void accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct wg_server *srv = arg;

	(void)fd;
	(void)what;
	if (!srv->stopping)
		event_add(srv->accept_ev, NULL);
}

/* Out of file descriptors: the pending connection stays queued and the
 * listener would fire again at once, so stop accepting for 100 ms instead
 * of spinning (and say so at most once a second). */
static void accept_pause(struct wg_server *srv, int err)
{
	static time_t last_said;
	time_t now = time(NULL);
	struct timeval pause = {.tv_sec = 0, .tv_usec = 100000};

	if (now != last_said) {
		last_said = now;
		wg_log(NULL, WG_LOG_ERROR, "accept: %s with %u sessions; new connections wait (raise LimitNOFILE)",
		       strerror(err), srv->n_sessions);
	}
	event_del(srv->accept_ev);
	event_base_once(srv->base, -1, EV_TIMEOUT, accept_resume, srv, &pause);
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct wg_server *srv = arg;

	(void)what;
	for (int i = 0; i < ACCEPT_BURST; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int cfd = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				accept_pause(srv, errno);
			return;
		}
		char peer[INET6_ADDRSTRLEN];
		if (sockaddr_text(&ss, peer, sizeof(peer)) && wg_login_banned(srv, peer)) {
			close(cfd); /* before any TLS work: a banned address costs nothing */
			continue;
		}
		wg_conn_accept(srv, cfd, (struct sockaddr *)&ss, len, &wg_router_handlers);
	}
}

static void on_tun(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	wg_datapath_tun_readable(arg);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct wg_server *srv = arg;

	(void)what;
	if (sig == SIGHUP) {
		char msg[4096];
		wg_log(NULL, WG_LOG_NOTICE, "SIGHUP: reloading %s", srv->conf->dir);
		wg_reload(srv, msg, sizeof(msg)); /* logs the outcome itself */
		return;
	}
	wg_log(NULL, WG_LOG_NOTICE, "%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	wg_server_stop(srv);
}

static void on_ban_expire(evutil_socket_t fd, short what, void *arg)
{
	struct wg_server *srv = arg;

	(void)fd;
	(void)what;
	wg_ban_expire(srv->bans, time(NULL));
}

static int open_listener(struct wg_server *srv)
{
	const char *host = wg_config_string(srv->scfg, "listen");
	int port = (int)wg_config_int(srv->scfg, "port");
	struct sockaddr_storage ss;
	socklen_t len;

	if (!host)
		host = "0.0.0.0";
	if (wg_listen_addr(host, port, &ss, &len) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "%s: listen: \"%s\" is not an IP address", wg_config_where(srv->scfg, "listen"),
		       host);
		return -1;
	}
	if (srv->worker.listen_fd >= 0) {
		/* A worker process: the master bound it in the SO_REUSEPORT group. */
		srv->listen_fd = srv->worker.listen_fd;
		srv->worker.listen_fd = -1;
	} else {
		srv->listen_fd = wg_listen_socket((struct sockaddr *)&ss, len, SOCK_STREAM, false);
		if (srv->listen_fd < 0) {
			wg_log(NULL, WG_LOG_ERROR, "cannot listen on %s port %d: %s", host, port, strerror(-srv->listen_fd));
			return -1;
		}
	}
	srv->accept_ev = event_new(srv->base, srv->listen_fd, EV_READ | EV_PERSIST, on_accept, srv);
	return srv->accept_ev && event_add(srv->accept_ev, NULL) == 0 ? 0 : -1;
}

/* Generation 1: the conf.d read at start with its plugins. */
static void log_auth_chain(const struct wg_gen *g)
{
	const struct wg_vhost *d = &g->vhosts[0];
	char chain[256] = "";
	size_t len = 0;

	wg_vhosts_log(g);
	if (d->n_auth < 2)
		return;
	for (unsigned i = 0; i < d->n_auth && len < sizeof(chain); i++)
		len += (size_t)snprintf(chain + len, sizeof(chain) - len, "%s%s", i ? " -> " : "",
					d->auth_chain[i]->desc->name);
	wg_log(NULL, WG_LOG_INFO, "login chain: %s (every step must succeed)", chain);
}

static int setup_plugins(struct wg_server *srv)
{
	struct wg_err err;
	struct wg_plugins ps;
	char why[256] = "out of memory";

	wg_err_init(&err);
	wg_check_vhosts(srv->conf, &err);
	if (err.count > 0 || wg_plugins_load(srv->conf, &ps, &err) < 0)
		goto fail;
	if (wg_plugins_init(&ps, wg_host_table(), &err) < 0) {
		wg_plugins_unload(&ps);
		goto fail;
	}
	for (size_t i = 0; i < ps.n; i++) {
		struct wg_loaded_plugin *p = &ps.v[i];
		wg_log(NULL, WG_LOG_INFO, "plugin %s %s (%s) loaded from %s", p->desc->name,
		       p->desc->version ? p->desc->version : "?", wg_plugin_kind_name(p->desc->kind), p->path);
	}
	/* Transports serve the worker's lifetime, not a generation's: the
	 * server owns them (a reload keeps them, see reload.c). */
	if (wg_plugins_take_kind(&ps, WG_PLUGIN_TRANSPORT, &srv->transport_plugins) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "plugins: out of memory");
		wg_plugins_unload(&ps);
		return -1;
	}
	wg_lanes_attach(srv, srv->transport_plugins.v, srv->transport_plugins.n);
	struct wg_gen *g = NULL;
	if (!(g = wg_gen_new(srv, srv->conf, &ps, why, sizeof(why)))) {
		wg_log(NULL, WG_LOG_ERROR, "%s: %s", srv->conf->dir, why);
		wg_plugins_unload(&ps);
		return -1;
	}
	wg_gen_make_current(srv, g);
	if (wg_vhosts_tls(g, &err) < 0)
		goto fail;
	log_auth_chain(g);
	return 0;
fail:
	wg_log(NULL, WG_LOG_ERROR, "plugins:\n%s", err.text);
	return -1;
}

static int setup_tun(struct wg_server *srv)
{
	const struct wg_routing_ops *ops = srv->routing->desc->ops;
	char net4[64] = "", net6[64] = "", host4[64] = "", host6[64] = "", err[256];
	unsigned prefix4 = 0, prefix6 = 0;

	if (ops->networks(srv->routing->state, net4, sizeof(net4), net6, sizeof(net6)) < 0 || (!net4[0] && !net6[0])) {
		wg_log(NULL, WG_LOG_ERROR, "routing plugin %s gave no address network", srv->routing->desc->name);
		return -1;
	}
	if (net4[0] && wg_net_first_host(net4, host4, sizeof(host4), &prefix4) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "invalid IPv4 network \"%s\" from %s", net4, srv->routing->desc->name);
		return -1;
	}
	if (net6[0] && wg_net_first_host(net6, host6, sizeof(host6), &prefix6) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "invalid IPv6 network \"%s\" from %s", net6, srv->routing->desc->name);
		return -1;
	}
	if (host4[0]) {
		struct in_addr a;
		inet_pton(AF_INET, host4, &a);
		srv->mask4 = prefix4 ? ~0u << (32 - prefix4) : 0;
		srv->net4 = ntohl(a.s_addr) & srv->mask4;
	}
	const char *dev = wg_config_string(srv->scfg, "tun-device");
	const struct wg_worker *w = &srv->worker;
	wg_tun_use_multi_queue(w->count > 1);
	if (w->index > 0) {
		/* Worker 0 created and configured the device; this adds a queue. */
		if (wg_tun_attach_queue(&srv->tun, dev, srv->mtu, err, sizeof(err)) < 0) {
			wg_log(NULL, WG_LOG_ERROR, "TUN device: %s", err);
			return -1;
		}
	} else if (wg_tun_open(&srv->tun, dev, srv->mtu, host4, prefix4, host6, prefix6, err, sizeof(err)) < 0 ||
		   (w->count > 1 && wg_steer_attach_tun(w->steer, srv->tun.fd, err, sizeof(err)) < 0)) {
		wg_log(NULL, WG_LOG_ERROR, "TUN device: %s", err);
		return -1;
	}
	if (wg_iroutes_install(srv, err, sizeof(err)) < 0 || wg_vhosts_route_pools(srv, err, sizeof(err)) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "%s", err);
		return -1;
	}
	srv->tun_ev = event_new(srv->base, srv->tun.fd, EV_READ | EV_PERSIST, on_tun, srv);
	if (!srv->tun_ev || event_add(srv->tun_ev, NULL) < 0)
		return init_failed("cannot watch the TUN device");
	if (w->count > 1)
		wg_log(NULL, WG_LOG_INFO, "TUN %s queue %u of %u: %s/%u%s%s", srv->tun.name, w->index, w->count, host4,
		       prefix4, host6[0] ? " " : "", host6);
	else
		wg_log(NULL, WG_LOG_INFO, "TUN %s up: %s/%u%s%s", srv->tun.name, host4, prefix4, host6[0] ? " " : "",
		       host6);

	FILE *f = fopen("/proc/sys/net/ipv4/ip_forward", "r");
	if (f) {
		if (fgetc(f) == '0')
			wg_log(NULL, WG_LOG_WARN, "net.ipv4.ip_forward is 0: clients reach only this host, not the networks behind it");
		fclose(f);
	}
	return 0;
}

static int setup_signals(struct wg_server *srv)
{
	signal(SIGPIPE, SIG_IGN);
	srv->sig_int = evsignal_new(srv->base, SIGINT, on_signal, srv);
	srv->sig_term = evsignal_new(srv->base, SIGTERM, on_signal, srv);
	srv->sig_hup = evsignal_new(srv->base, SIGHUP, on_signal, srv);
	if (!srv->sig_int || !srv->sig_term || !srv->sig_hup)
		return init_failed("cannot watch signals");
	evsignal_add(srv->sig_int, NULL);
	evsignal_add(srv->sig_term, NULL);
	evsignal_add(srv->sig_hup, NULL);
	return 0;
}

/* Everything that needs root is done: drop it, then confine the system
 * calls (see docs/security.md). */
static int confine(struct wg_server *srv)
{
	const char *mode = wg_config_string(srv->scfg, "sandbox");
	const char *user = wg_config_string(srv->scfg, "user"), *group = wg_config_string(srv->scfg, "group");
	char why[256];

	if (strcmp(mode, "off") == 0) {
		wg_log(NULL, WG_LOG_WARN, "sandbox off: the server keeps root and every system call");
		return 0;
	}
	if (strcmp(mode, "on") != 0 && strcmp(mode, "log") != 0) {
		wg_log(NULL, WG_LOG_ERROR, "%s: sandbox: must be \"on\", \"log\" or \"off\", not \"%s\"",
		       wg_config_where(srv->scfg, "sandbox"), mode);
		return -1;
	}
	if (wg_privdrop(user, group, why, sizeof(why)) < 0 ||
	    wg_sandbox_install(strcmp(mode, "log") == 0, srv->worker.count > 1, why, sizeof(why)) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "sandbox: %s", why);
		return -1;
	}
	wg_log(NULL, WG_LOG_INFO, "sandbox: running as %s:%s (uid %u), no_new_privs, seccomp %s; privileged helper for PAM and log files", user, group,
	       (unsigned)geteuid(), strcmp(mode, "log") == 0 ? "logging calls outside the list" : "enforcing");
	return 0;
}

/* The privileged helper is forked while still root: it keeps root for the
 * few requests that need it (PAM over /etc/shadow, reopening log files) and
 * removes the control socket when the server ends. It is forked after the
 * plugins' init (their log files and PAM services are its allow-lists) and
 * before the TLS private key is read, so the root process never holds the
 * key: the network-facing process alone does (see docs/security.md). */
static int start_helper(struct wg_server *srv)
{
	const char *mode = wg_config_string(srv->scfg, "sandbox");
	char why[256];

	if (strcmp(mode, "off") == 0 || geteuid() != 0)
		return 0;
	if (wg_privsep_start(srv->ctl_path, why, sizeof(why)) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "sandbox: privileged helper: %s", why);
		return -1;
	}
	return 0;
}

/* The control socket this process serves: a worker of several answers the
 * master on a path of its own. */
static void set_ctl_path(struct wg_server *srv)
{
	const char *path = wg_config_string(srv->scfg, "control-socket");

	if (!path || !*path)
		return;
	if (srv->worker.count > 1)
		snprintf(srv->ctl_path, sizeof(srv->ctl_path), "%s%s%u", path, WG_WORKER_CTL_SUFFIX, srv->worker.index);
	else
		snprintf(srv->ctl_path, sizeof(srv->ctl_path), "%s", path);
}

int wg_server_init(struct wg_server *srv, struct wg_conf *conf, const struct wg_worker *worker)
{
	struct wg_err err;
	char why[512], pin[128];

	memset(srv, 0, sizeof(*srv));
	srv->listen_fd = -1;
	srv->tun.fd = -1;
	srv->conf = conf;
	srv->scfg = conf->server;
	if (worker)
		srv->worker = *worker;
	else
		srv->worker = (struct wg_worker){.index = 0, .count = 1, .listen_fd = -1, .udp_fd = -1};
	/* Session ids are index, index + count, ...: unique across workers. */
	srv->next_session_id = srv->worker.index;
	wg_server_set_current(srv);
	srv->session_handlers = &wg_login_session_handlers;
	wg_session_install_log_describer();
	set_ctl_path(srv);

	wg_err_init(&err);
	if (wg_config_validate(conf->server, wg_server_options, &err) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "configuration:\n%s", err.text);
		return -1;
	}
	if (wg_server_apply_settings(srv, why, sizeof(why)) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "%s", why);
		return -1;
	}
	wg_metrics_counters(); /* start time */
	srv->base = event_base_new();
	srv->by_cookie = wg_hashmap_new(WG_COOKIE_LEN);
	srv->by_addr4 = wg_hashmap_new(4);
	srv->by_addr6 = wg_hashmap_new(16);
	srv->by_context = wg_hashmap_new(16);
	srv->unauth_by_addr = wg_addr_count_new();
	srv->logins_by_addr = wg_addr_count_new();
	if (!srv->base || !srv->by_cookie || !srv->by_addr4 || !srv->by_addr6 || !srv->by_context ||
	    !srv->unauth_by_addr || !srv->logins_by_addr)
		return init_failed("out of memory for the event loop or the session tables");
	srv->pool = wg_workpool_new(srv->base, WORKER_THREADS);
	if (!srv->pool)
		return init_failed("cannot start the worker threads");
	srv->user_count = srv->worker.user_count;
	if (!srv->user_count) {
		srv->user_count = wg_user_count_new(wg_user_count_slots(srv->scfg));
		srv->user_count_owned = true;
	}
	if (!srv->user_count) {
		wg_log(NULL, WG_LOG_ERROR, "cannot map the table of sessions per user");
		return -1;
	}
	srv->period_quota = srv->worker.period_quota;
	if (!srv->period_quota) {
		srv->period_quota = wg_period_quota_new(WG_PERIOD_QUOTA_SLOTS,
							wg_config_string(srv->scfg, "data-quota-state-file"), why, sizeof(why));
		srv->period_quota_owned = true;
	}
	if (!srv->period_quota) {
		wg_log(NULL, WG_LOG_ERROR, "%s", why);
		return -1;
	}
	if (wg_period_quota_start(srv) < 0)
		return init_failed("cannot start the data quota timer");
	if (setup_plugins(srv) < 0 || start_helper(srv) < 0 || wg_cluster_start(srv) < 0)
		return -1;
	srv->tls = wg_tls_ctx_new(srv->scfg, why, sizeof(why));
	if (!srv->tls) {
		wg_log(NULL, WG_LOG_ERROR, "TLS: %s", why);
		return -1;
	}
	if (wg_tls_cert_pin(wg_config_string(srv->scfg, "certificate"), pin, sizeof(pin)) == 0)
		wg_log(NULL, WG_LOG_NOTICE, "server certificate %s", pin);
	/* A TLS socket per session, a DTLS one per connected link, and room
	 * for logins in progress. */
	unsigned long fds = wg_fd_limit_raise(1048576);
	wg_log(NULL, fds < 65536 ? WG_LOG_WARN : WG_LOG_INFO, "open file limit %lu%s", fds,
	       fds < 65536 ? ": fewer than 32K concurrent sessions possible (raise LimitNOFILE)" : "");
	if (setup_tun(srv) < 0 || open_listener(srv) < 0 || setup_signals(srv) < 0)
		return -1;
	if (srv->ctl_path[0]) {
		/* A worker's socket is for the master only. */
		srv->control = wg_control_start(srv, srv->ctl_path, srv->worker.count > 1 ? "0600" :
					       wg_config_string(srv->scfg, "control-socket-mode"));
		if (!srv->control)
			return -1;
	}
	if (wg_config_int(srv->scfg, "metrics-port") != 0) {
		/* Each worker process serves its own counters, on port + index. */
		srv->metrics = wg_metrics_http_start(srv, wg_config_string(srv->scfg, "metrics-listen"),
						     (int)(wg_config_int(srv->scfg, "metrics-port") + srv->worker.index));
		if (!srv->metrics)
			return -1;
	}
	srv->ban_ev = event_new(srv->base, -1, EV_PERSIST, on_ban_expire, srv);
	struct timeval every = {.tv_sec = BAN_EXPIRE_S};
	if (!srv->ban_ev || event_add(srv->ban_ev, &every) < 0)
		return init_failed("cannot start the ban expiry timer");
	if (confine(srv) < 0)
		return -1;
	char names[256] = "";
	size_t used = 0;
	for (size_t i = 0; i < srv->n_transports; i++) {
		int k = snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
				 srv->transports[i]->plugin->desc->name);
		if (k > 0 && used + (size_t)k < sizeof(names))
			used += (size_t)k;
	}
	wg_log(NULL, WG_LOG_NOTICE, "listening on %s port %lld (TLS); lanes beside CSTP: %s",
	       wg_config_string(srv->scfg, "listen"), (long long)wg_config_int(srv->scfg, "port"),
	       names[0] ? names : "none");
	if (srv->worker.count == 1) /* several workers: the master tells systemd */
		wg_sd_server_ready(srv);
	return 0;
}

int wg_server_run(struct wg_server *srv)
{
	return event_base_dispatch(srv->base) < 0 ? -1 : 0;
}

static bool output_pending(struct wg_server *srv)
{
	for (struct wg_conn *c = srv->conns; c; c = c->next)
		if (wg_conn_backlog(c) > 0)
			return true;
	return false;
}

/* The loop ends once every connection's queued output (the DISCONNECTs)
 * has gone to the kernel, or after STOP_MAX_TICKS. */
static void on_stop_tick(evutil_socket_t fd, short what, void *arg)
{
	struct wg_server *srv = arg;
	struct timeval tick = {0, STOP_TICK_MS * 1000};

	(void)fd;
	(void)what;
	if (++srv->stop_ticks >= STOP_MAX_TICKS || !output_pending(srv))
		event_base_loopexit(srv->base, NULL);
	else
		evtimer_add(srv->stop_ev, &tick);
}

void wg_server_stop(struct wg_server *srv)
{
	struct timeval tick = {0, STOP_TICK_MS * 1000};

	if (srv->stopping)
		return;
	srv->stopping = true;
	if (srv->worker.count == 1)
		wg_sd_stopping();
	if (srv->accept_ev)
		event_del(srv->accept_ev);
	/* Clients get a DISCONNECT so they do not try to reconnect, and every
	 * session's end reaches the plugins (accounting stops). */
	wg_session_end_all(srv, "server shutdown");
	srv->stop_ev = evtimer_new(srv->base, on_stop_tick, srv);
	if (!srv->stop_ev || evtimer_add(srv->stop_ev, &tick) < 0)
		event_base_loopexit(srv->base, NULL);
}

void wg_server_fini(struct wg_server *srv)
{
	/* Sessions end (plugins hear of each), logins are dropped, queued
	 * plugin work finishes, and only then are plugins finalised. */
	if (srv->by_cookie)
		wg_session_end_all(srv, "server shutdown");
	if (srv->by_context)
		wg_auth_end_all(srv);
	if (srv->base)
		wg_conn_free_all(srv);
	if (srv->control)
		wg_control_stop(srv->control);
	wg_cluster_stop(srv);
	wg_events_stop(srv);
	if (srv->metrics)
		wg_metrics_http_stop(srv->metrics);
	/* Every lane is closed (the sessions ended): the transports go. */
	for (size_t i = 0; i < srv->n_transports; i++)
		free(srv->transports[i]);
	srv->n_transports = 0;
	wg_plugins_unload(&srv->transport_plugins);
	if (srv->pool)
		wg_workpool_free(srv->pool);
	if (srv->gen_counter)
		wg_gen_collect(srv, true);
	else
		wg_conf_free(srv->conf); /* no generation took it over */
	srv->conf = NULL;
	memset(&srv->plugins, 0, sizeof(srv->plugins));
	wg_log_clear_sinks();
	wg_sd_server_fini();
	if (srv->gc_ev)
		event_free(srv->gc_ev);
	if (srv->ban_ev)
		event_free(srv->ban_ev);
	if (srv->stop_ev)
		event_free(srv->stop_ev);
	wg_ban_free(srv->bans);
	free(srv->camouflage_page);
	free(srv->camouflage_secret);
	free(srv->camouflage_realm);
	srv->camouflage_page = srv->camouflage_secret = srv->camouflage_realm = NULL;
	if (srv->user_count_owned)
		wg_user_count_free(srv->user_count);
	srv->user_count = NULL;
	wg_period_quota_stop(srv); /* the last counts saved */
	if (srv->period_quota_owned)
		wg_period_quota_free(srv->period_quota);
	srv->period_quota = NULL;
	if (srv->accept_ev)
		event_free(srv->accept_ev);
	if (srv->tun_ev)
		event_free(srv->tun_ev);
	if (srv->sig_int)
		event_free(srv->sig_int);
	if (srv->sig_term)
		event_free(srv->sig_term);
	if (srv->sig_hup)
		event_free(srv->sig_hup);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->worker.listen_fd >= 0)
		close(srv->worker.listen_fd);
	if (srv->worker.udp_fd >= 0)
		close(srv->worker.udp_fd);
	if (srv->tun.fd >= 0)
		wg_tun_close(&srv->tun);
	wg_iroutes_free(srv);
	if (srv->tls)
		wolfSSL_CTX_free(srv->tls);
	wg_hashmap_free(srv->by_cookie);
	wg_hashmap_free(srv->by_addr4);
	wg_hashmap_free(srv->by_addr6);
	wg_hashmap_free(srv->by_context);
	wg_addr_count_free(srv->unauth_by_addr);
	wg_addr_count_free(srv->logins_by_addr);
	if (srv->base)
		event_base_free(srv->base);
	wg_privsep_stop(); /* the helper removes the control socket and exits */
	wg_server_set_current(NULL);
}
