/* A VPN session: born when a login succeeds, identified by its cookie,
 * carried by at most one CSTP connection and the lanes of transport plugins, and
 * kept for cookie-lifetime after its connection drops so the client can
 * resume with the same address. */
#ifndef WG_SESSION_H
#define WG_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <time.h>
#include <wolfguard/plugin.h>

#include "modules/loader.h"

struct wg_server;
struct wg_conn;
struct wg_lane;
struct wg_gen;
struct wg_route_filter;
struct event;

#define WG_COOKIE_LEN 32
#define WG_MAX_GROUPS 16
#define WG_MAX_ATTRS 32

struct wg_attr {
	char *key, *value; /* owned */
};

/* What the client was given, kept small: the full struct wg_tunnel_config
 * (about 10 KB of route and DNS slots) exists only while a tunnel is being
 * set up; its lists then live on as the rendered header lines `pushed`. */
struct wg_session_tc {
	char addr4[16], netmask4[16], addr6[48];
	uint32_t prefix6, mtu, dpd_s, keepalive_s;
	uint32_t idle_timeout_s, session_timeout_s, rate_limit_kbps;
};

struct wg_session {
	struct wg_server *srv;
	uint64_t id;
	char id_str[20];
	char user[128];
	char group[128];
	char *groups[WG_MAX_GROUPS]; /* owned strings */
	unsigned n_groups;
	char *groups_joined;         /* owned: "a,b,c" for WG_SESS_GROUPS, made on first read */
	struct wg_attr attrs[WG_MAX_ATTRS];
	unsigned n_attrs;
	char client_addr[64];        /* "198.51.100.2" of the current connection */
	char user_agent[128];

	uint8_t cookie[WG_COOKIE_LEN];

	struct wg_session_tc tc;     /* what the client was given */
	char *pushed;                /* owned: X-CSTP-* lines for DNS, domain, routes */
	bool leased;
	uint32_t addr4;              /* network order, 0 when none */
	uint8_t addr6[16];
	bool has_addr6;

	struct wg_conn *cstp;        /* current CSTP connection, or NULL */
	struct wg_lane *lanes;       /* offered at the current CONNECT (lane.h), owned */
	struct wg_lane *active;      /* the first of them that is up; NULL: CSTP */
	struct event *timer;         /* idle / linger / session-timeout checks */

	/* Token buckets, one per direction, at rate_in_kbps (from the client)
	 * and rate_out_kbps (to it): tc.rate_limit_kbps, rx/tx-data-per-sec
	 * and a throttled quota, the tightest of them (session/limits.c). */
	struct wg_rate { double tokens; uint64_t last_us; } rate_in, rate_out;
	uint32_t rate_in_kbps, rate_out_kbps;
	uint64_t quota_bytes;        /* rx + tx allowed; 0: none */
	bool quota_throttle, quota_reached;
	/* period-data-quota (session/period_quota.h): the user's bytes in
	 * this period allowed (0: none), and what the shared table counted
	 * at the last flush (this session's flushed bytes included). */
	uint64_t period_quota, period_base, period_flushed;
	uint32_t period_pid;
	int period;                  /* enum wg_period */
	bool period_reached;         /* the quota reached is the period's */
	struct wg_route_filter *filter; /* owned: restrict-user-to-routes/-ports, NULL: none */
	uint64_t filtered_pkts;      /* packets from the client the filter dropped */

	/* The auth plugins that logged this session in: told of its start
	 * and end for accounting. */
	struct wg_loaded_plugin *auth_steps[WG_MAX_AUTH_STEPS];
	unsigned n_auth_steps;
	bool acct_started;
	bool user_counted;           /* holds a place in srv->user_count (max-same-clients) */
	bool cluster_counted;        /* counted in this node's per-user counts in Redis (cluster.h) */
	/* The configuration generation the session began in: its plugin
	 * instances serve the session to its end (see gen.h). A reference. */
	struct wg_gen *gen;
	/* The server name it logged in under (a vhost of gen, gen.h): its
	 * routing plugin leases the addresses. gen's default until a login
	 * sets it. */
	struct wg_vhost *vhost;

	time_t created, last_rx, disconnected_at;
	uint64_t rx_bytes, tx_bytes, rx_pkts, tx_pkts;
	bool ending;
	bool held;                   /* a policy call holds it: see wg_session_hold */
	char *end_reason;            /* owned: an end requested while held */
};

/* What the layers above do at a session's turning points: the session
 * calls down only, and reaches the tunnel and the policies through these
 * (installed in srv->session_handlers by the server: login/session_handlers.c).
 * A NULL slot is skipped. */
struct wg_conn;
struct wg_session_handlers {
	/* The client's tunnel settings as protocol headers (malloc'd, NULL
	 * when out of memory), rendered once per session. */
	char *(*render_pushed)(const struct wg_tunnel_config *tc);
	/* The session ends for good: policies are told. */
	void (*ending)(struct wg_server *srv, const struct wg_session *s);
	/* Tells the client on its tunnel connection why the session ended. */
	void (*goodbye)(struct wg_conn *c, const char *reason);
	/* Closes the session's extra channels (transport lanes). */
	void (*close_lanes)(struct wg_session *s);
	/* The session's networks behind the client (iroute) start or stop
	 * being routed to it. */
	void (*routes_bound)(struct wg_session *s);
	void (*routes_unbound)(struct wg_session *s);
	/* The session's tunnel is up (a login's first CONNECT, an adopted
	 * session's, every reconnect): a cluster records it with this node. */
	void (*tunnel_up)(struct wg_session *s);
	/* Its tunnel connection dropped; it lingers for a reconnect. */
	void (*detached)(struct wg_session *s);
	/* It ended, for reason (before its lease is released). */
	void (*ended)(struct wg_session *s, const char *reason);
};

/* Creates a session for a successful login; owns copies of everything. */
struct wg_session *wg_session_new(struct wg_server *srv, const char *user, const char *const *groups,
				  const char *selected_group, const char *client_addr,
				  const char *user_agent, const struct wg_attr *attrs, unsigned n_attrs);
/* The session belongs to vh (and holds vh->gen instead of the generation
 * it had). */
void wg_session_set_vhost(struct wg_session *s, struct wg_vhost *vh);
/* The vhost's name, NULL for the default server. */
const char *wg_session_vhost_name(const struct wg_session *s);
/* Looks up a session by its cookie in hex: a keyed-hash table lookup whose
 * last step is memcmp, so not constant-time. It need not be: the cookie is
 * 256 random bits and only an exact match finds anything, so the timing of
 * a miss tells nothing about any live cookie. */
struct wg_session *wg_session_by_cookie(struct wg_server *srv, const char *cookie_hex);
void wg_session_cookie_hex(const struct wg_session *s, char out[2 * WG_COOKIE_LEN + 1]);

/* At login, between the policies' after_auth and before_tunnel: fills tc
 * with the server's defaults, leases addresses through the routing plugin,
 * applies the auth backend's attributes and registers the addresses.
 * Returns 0 or a negative errno (no address). */
int wg_session_lease_begin(struct wg_session *s, struct wg_tunnel_config *tc);
/* The addresses of tc (addr4, addr6) in the worker's tables, this
 * session's: 0, -EINVAL, -EADDRINUSE (another session's), -ENOMEM. */
int wg_session_register_addresses(struct wg_session *s, const struct wg_tunnel_config *tc);
/* The session takes this cookie instead of its own random one (a session
 * adopted from another node of a cluster keeps its cookie): 0, or -EEXIST
 * when another session has it, -ENOMEM. */
int wg_session_adopt_cookie(struct wg_session *s, const uint8_t cookie[WG_COOKIE_LEN]);
/* After before_tunnel: keeps what the client is given (small) from tc. */
int wg_session_tunnel_ready(struct wg_session *s, const struct wg_tunnel_config *tc);

/* While a policy holds a session (held), wg_session_end only records the
 * request; releasing the hold returns true when an end was requested, and
 * the caller then ends it with s->end_reason. */
void wg_session_hold(struct wg_session *s);
bool wg_session_release_hold(struct wg_session *s);
/* The tunnel is up (CONNECT answered): accounting starts the first time. */
void wg_session_tunnel_up(struct wg_session *s);
/* Counters for host->session_stats. */
void wg_session_stats(const struct wg_session *s, struct wg_session_stats *out);


/* The CSTP connection went away: keep the session for reconnects. */
void wg_session_detached(struct wg_session *s);
/* Ends the session for good: releases the lease, closes its channels. */
void wg_session_end(struct wg_session *s, const char *reason);
/* Ends every session (server stop). */
void wg_session_end_all(struct wg_server *srv, const char *reason);

/* Sets a backend/policy attribute: WG_ATTR_ROUTE and WG_ATTR_DNS add a
 * value, any other key replaces its value. Returns 0 or -1 (full, no memory). */
int wg_session_set_attr(struct wg_session *s, const char *key, const char *value);

/* For log lines and host->session_get. */
const char *wg_session_attr(const struct wg_session *s, const char *name);
void wg_session_install_log_describer(void);
/* The common fields of a session for an event (observe/events.h): id,
 * user, group, client and VPN address. NULL when out of memory. */
json_t *wg_session_event_fields(const struct wg_session *s);

#endif
