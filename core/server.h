/* One worker: an event loop with its listener, TUN queue, DTLS socket and
 * the tables that tie cookies, VPN addresses and DTLS App-IDs to sessions.
 * Everything a session touches lives here. With "workers" above 1 each
 * worker is a process of its own (master.h), and the kernel steers clients
 * and VPN addresses to the worker that owns them (steer.h). */
#ifndef WG_SERVER_H
#define WG_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "config/config.h"
#include "modules/loader.h"
#include "tunnel/tun.h"
#include "workers/worker.h"

struct event_base;
struct event;
struct wg_hashmap;
struct wg_workpool;
struct wg_transport;
struct wg_control;
struct wg_gen;
struct wg_ban_table;
struct wg_addr_count;
struct wg_metrics_http;
struct wg_session_handlers;
struct wg_cluster;

struct wg_server {
	struct event_base *base;
	/* The current configuration generation (gen.h) and every generation
	 * not yet freed. conf, plugins and routing below are borrowed from the
	 * current one (plugins is a copy of gen->plugins, never unloaded
	 * through srv; routing is its default vhost's); before the first
	 * generation exists (only while wg_server_init runs, before any client
	 * can reach the server), conf is owned. Logins and sessions use the
	 * plugins of their own vhost and generation (gen.h), never these. */
	struct wg_gen *gen, *gens;
	unsigned gen_counter;
	struct event *gc_ev;            /* frees unused generations */
	struct wg_conf *conf;
	struct wg_plugins plugins;
	const struct wg_config *scfg;   /* conf->server */
	WOLFSSL_CTX *tls;               /* owned */
	struct wg_workpool *pool;       /* owned */

	struct wg_loaded_plugin *routing;  /* borrowed from plugins: the default pools (the TUN's networks) */
	/* The current generation has vhosts: a connection's ClientHello is
	 * read for its server name (SNI) before the TLS context is chosen. */
	bool vhosts_on;
	/* Networks of vhosts' own pools routed into the TUN device at start
	 * (host/vhosts.h); a reload may use no other. */
#define WG_MAX_VHOST_POOLS 32
	char vhost_pools[WG_MAX_VHOST_POOLS][64];
	unsigned n_vhost_pools;

	int listen_fd;
	struct event *accept_ev, *tun_ev, *sig_int, *sig_term, *sig_hup;
	struct wg_tun tun;
	/* Transport plugins (lane.h): taken out of the first generation at
	 * start and owned here, so they serve the worker to its end (a reload
	 * keeps them) while generation 1 may retire. */
	struct wg_plugins transport_plugins;
	struct wg_transport *transports[4];
	size_t n_transports;
	bool udp_taken;                 /* a transport took the UDP socket */
	struct wg_control *control;     /* NULL when the control socket is off */
	struct wg_metrics_http *metrics; /* NULL when metrics-port is 0 */
	struct wg_ban_table *bans;      /* owned; survives reloads */
	struct event *ban_ev;           /* expires ban entries every minute */
	struct event *stop_ev;          /* graceful stop: waits for DISCONNECTs to leave */
	int stop_ticks;

	/* Lookup tables; values are borrowed struct wg_session / wg_auth. */
	struct wg_hashmap *by_cookie;   /* 32-byte cookie -> session */
	struct wg_hashmap *by_addr4;    /* 4-byte VPN address -> session */
	struct wg_hashmap *by_addr6;    /* 16-byte VPN address -> session */
	struct wg_hashmap *by_context;  /* 16-byte login context -> wg_auth */

	struct wg_conn *conns;          /* every open connection (list head) */
	/* What sessions call up through (session.h), set at init. */
	const struct wg_session_handlers *session_handlers;
	unsigned n_sessions, n_conns_unauth;
	uint64_t next_session_id;

	/* Settings read once from the server section. */
	unsigned cookie_lifetime, auth_timeout, idle_timeout, session_timeout;
	unsigned dpd, keepalive, mtu, max_clients, max_unauth;
	unsigned max_unauth_per_addr, max_logins, max_logins_per_addr, max_logins_per_conn;
	unsigned prefix6_client;        /* ipv6-client-prefix */
	/* Per client key (client_key.h): pre-login connections and login
	 * conversations held (owned). */
	struct wg_addr_count *unauth_by_addr, *logins_by_addr;
	unsigned ban_failures, ban_window, ban_time;
	bool isolate;
	struct wg_iroute_table *iroutes; /* owned: users' iroutes (tunnel/iroute.h), NULL: none */
	bool proxy_proto;               /* listen-proxy-proto */
	const char *banner, *default_domain, *server_name;
	uint32_t net4, mask4;           /* pool network, host order (0 if none) */
	uint8_t net6[16];
	unsigned prefix6;
	bool have_net6;
	bool stopping;
	/* Which worker this is: index 0 of 1 unless the master started it. */
	struct wg_worker worker;
	/* Sessions per user on all workers (max-same-clients): the master's
	 * shared table, or this process's own when it is the whole server. */
	struct wg_cluster *cluster;     /* owned; NULL: no cluster store (cluster.h) */
	struct wg_user_count *user_count;
	bool user_count_owned;
	/* Bytes per user and period (period-data-quota), shared the same way
	 * (session/period_quota.h); the timer flushes sessions into it. */
	struct wg_period_quota *period_quota;
	bool period_quota_owned;
	struct event *period_ev;
	unsigned period_ticks;
	/* Camouflage (camouflage.h): NULL secret when off. Owned copies, so a
	 * reload that fails to apply keeps the running ones intact; the page
	 * is read from camouflage-page. */
	char *camouflage_secret, *camouflage_realm;
	char *camouflage_page;
	struct wg_event_sub *event_subs; /* wolfguardctl events subscribers (events.c) */
	size_t camouflage_page_len;
	char ctl_path[256];             /* the control socket this worker serves */

	/* Scratch for one packet on the data path (no per-packet malloc). */
	uint8_t pkt[65536];
};

/* Sets up everything from a loaded conf (takes ownership of conf). worker
 * is NULL for a single-process server, else what the master gave this
 * worker. Returns 0, or -1 after logging why. */
int wg_server_init(struct wg_server *srv, struct wg_conf *conf, const struct wg_worker *worker);
int wg_server_run(struct wg_server *srv);
void wg_server_fini(struct wg_server *srv);
/* Begins a graceful stop: sessions are told, then the loop ends. */
void wg_server_stop(struct wg_server *srv);
/* wg_server_apply_settings: host/settings.h; wg_server_current: util/current.h. */

#endif
