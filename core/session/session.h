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

#include "session/attrs.h"
#include "session/session_types.h"

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

void wg_session_install_log_describer(void);
/* The common fields of a session for an event (observe/events.h): id,
 * user, group, client and VPN address. NULL when out of memory. */
json_t *wg_session_event_fields(const struct wg_session *s);

#endif
