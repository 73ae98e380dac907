/* One worker: an event loop with its listener, TUN device, DTLS socket and
 * the tables that tie cookies, VPN addresses and DTLS App-IDs to sessions.
 * Today there is one worker; everything a session touches lives here, so a
 * second worker is a second struct wg_server with its own SO_REUSEPORT
 * listener and TUN queue. */
#ifndef WG_SERVER_H
#define WG_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "config.h"
#include "loader.h"
#include "tun.h"

struct event_base;
struct event;
struct wg_hashmap;
struct wg_workpool;
struct wg_dtls_server;
struct wg_control;

struct wg_server {
	struct event_base *base;
	struct wg_conf *conf;           /* owned */
	struct wg_plugins plugins;      /* owned */
	const struct wg_config *scfg;   /* conf->server */
	WOLFSSL_CTX *tls;               /* owned */
	struct wg_workpool *pool;       /* owned */

	struct wg_loaded_plugin *auth;     /* borrowed: the first login step */
	/* Every auth plugin, in conf.d order: the steps of each login. */
	struct wg_loaded_plugin *auth_chain[WG_MAX_AUTH_STEPS];
	unsigned n_auth;
	struct wg_loaded_plugin *routing;  /* borrowed from plugins */

	int listen_fd;
	struct event *accept_ev, *tun_ev, *sig_int, *sig_term, *sig_hup;
	struct wg_tun tun;
	struct wg_dtls_server *dtls;    /* NULL when DTLS is off */
	struct wg_control *control;     /* NULL when the control socket is off */
	int udp_port;                   /* the DTLS port announced to clients */

	/* Lookup tables; values are borrowed struct wg_session / wg_auth. */
	struct wg_hashmap *by_cookie;   /* 32-byte cookie -> session */
	struct wg_hashmap *by_addr4;    /* 4-byte VPN address -> session */
	struct wg_hashmap *by_addr6;    /* 16-byte VPN address -> session */
	struct wg_hashmap *by_app_id;   /* 32-byte DTLS App-ID -> session */
	struct wg_hashmap *by_context;  /* 16-byte login context -> wg_auth */

	struct wg_conn *conns;          /* every open connection (list head) */
	unsigned n_sessions, n_conns_unauth;
	uint64_t next_session_id;

	/* Settings read once from the server section. */
	unsigned cookie_lifetime, auth_timeout, idle_timeout, session_timeout;
	unsigned dpd, keepalive, mtu, max_clients, max_unauth;
	bool isolate;
	const char *banner, *default_domain, *server_name;
	uint32_t net4, mask4;           /* pool network, host order (0 if none) */
	uint8_t net6[16];
	unsigned prefix6;
	bool have_net6;
	bool stopping;

	/* Scratch for one packet on the data path (no per-packet malloc). */
	uint8_t pkt[65536];
};

/* Sets up everything from a loaded conf (takes ownership of conf). Returns
 * 0, or -1 after logging why. */
int wg_server_init(struct wg_server *srv, struct wg_conf *conf);
int wg_server_run(struct wg_server *srv);
void wg_server_fini(struct wg_server *srv);
/* Begins a graceful stop: sessions are told, then the loop ends. */
void wg_server_stop(struct wg_server *srv);

/* The worker of the calling thread (for host functions that have no other
 * context, like timers). */
struct wg_server *wg_server_current(void);

#endif
