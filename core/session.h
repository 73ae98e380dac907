/* A VPN session: born when a login succeeds, identified by its cookie,
 * carried by at most one CSTP connection and one DTLS link at a time, and
 * kept for cookie-lifetime after its connection drops so the client can
 * resume with the same address. */
#ifndef WG_SESSION_H
#define WG_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <wolfguard/plugin.h>

struct wg_server;
struct wg_conn;
struct wg_dtls_link;
struct wg_gen;
struct event;

#define WG_COOKIE_LEN 32
#define WG_MAX_GROUPS 16
#define WG_MAX_ATTRS 32

struct wg_attr {
	char *key, *value; /* owned */
};

struct wg_session {
	struct wg_server *srv;
	uint64_t id;
	char id_str[20];
	char user[128];
	char group[128];
	char *groups[WG_MAX_GROUPS]; /* owned strings */
	unsigned n_groups;
	struct wg_attr attrs[WG_MAX_ATTRS];
	unsigned n_attrs;
	char client_addr[64];        /* "198.51.100.2" of the current connection */
	char user_agent[128];

	uint8_t cookie[WG_COOKIE_LEN];
	uint8_t app_id[32];
	bool app_id_set;
	uint8_t psk[32];             /* DTLS PSK of the current connection */

	struct wg_tunnel_config tc;  /* what the client was given */
	bool leased;
	uint32_t addr4;              /* network order, 0 when none */
	uint8_t addr6[16];
	bool has_addr6;

	struct wg_conn *cstp;        /* current CSTP connection, or NULL */
	struct wg_dtls_link *dtls;   /* current DTLS link, or NULL */
	struct event *timer;         /* idle / linger / session-timeout checks */

	/* Token buckets for tc.rate_limit_kbps, one per direction. */
	struct wg_rate { double tokens; uint64_t last_us; } rate_in, rate_out;

	/* The configuration generation the session began in: its plugin
	 * instances serve the session to its end (see gen.h). A reference. */
	struct wg_gen *gen;

	time_t created, last_rx, disconnected_at;
	uint64_t rx_bytes, tx_bytes, rx_pkts, tx_pkts;
	bool ending;
};

/* Creates a session for a successful login; owns copies of everything. */
struct wg_session *wg_session_new(struct wg_server *srv, const char *user, const char *const *groups,
				  const char *selected_group, const char *client_addr,
				  const char *user_agent, const struct wg_attr *attrs, unsigned n_attrs);
/* Looks up a session by its cookie in hex; constant-time compare. */
struct wg_session *wg_session_by_cookie(struct wg_server *srv, const char *cookie_hex);
void wg_session_cookie_hex(const struct wg_session *s, char out[2 * WG_COOKIE_LEN + 1]);

/* Leases addresses through the routing plugin and registers them. */
int wg_session_lease(struct wg_session *s);
/* A new DTLS App-ID for the current connection. */
void wg_session_new_app_id(struct wg_session *s);

/* The CSTP connection went away: keep the session for reconnects. */
void wg_session_detached(struct wg_session *s);
/* Ends the session for good: releases the lease, closes its channels. */
void wg_session_end(struct wg_session *s, const char *reason);
/* Ends every session (server stop). */
void wg_session_end_all(struct wg_server *srv, const char *reason);

/* For log lines and host->session_get. */
const char *wg_session_attr(const struct wg_session *s, const char *name);
void wg_session_install_log_describer(void);

#endif
