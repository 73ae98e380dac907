/* The session record: what a VPN session holds, apart from what is done
 * with it (session.h). Its own header so that the parts of a session that
 * only read and set its fields (attrs.c, limits.c) need not see the
 * session's life cycle, which uses them. */
#ifndef WG_SESSION_TYPES_H
#define WG_SESSION_TYPES_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <wolfguard/plugin.h>

#include "modules/loader.h"

struct wg_server;
struct wg_conn;
struct wg_lane;
struct wg_gen;
struct wg_vhost;
struct wg_route_filter;
struct wg_lease_kept;
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
	bool steer_taken;            /* its addresses steered to this worker by wg_session_steer_take */
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
	/* Addresses the routing plugin offered that another node of a cluster
	 * holds: kept from the plugin until the lease settles (lease.h). */
	struct wg_lease_kept *lease_kept;
	/* A shared pool's lease of the addresses, confirmed by Redis up to
	 * this time (0: none): the cluster ends the session before it lapses
	 * unrenewed, so that no other node can hand the address out meanwhile. */
	time_t cluster_lease_until;
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

#endif
