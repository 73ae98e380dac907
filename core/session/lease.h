/* Leasing a session's addresses. */
#ifndef WG_LEASE_H
#define WG_LEASE_H

struct wg_session;
struct wg_tunnel_config;

/* Routing through the session's generation (the server's current one for a
 * session without); parks addresses older sessions hold (modules/gen.h).
 * Returns 0 or a negative errno. */
int wg_session_lease(struct wg_session *s, struct wg_tunnel_config *tc);
void wg_session_lease_release(struct wg_session *s, const struct wg_tunnel_config *tc);
/* With several workers and a cluster: the session's tunnel is up on this
 * worker, so its addresses are steered here, over another worker's entry
 * (workers/steer.h, wg_steer_take); released at the session's end if still
 * this worker's. Nothing with one worker. */
void wg_session_steer_take(struct wg_session *s);

/* A cluster with a shared pool (cluster/lease.c): the addresses just leased
 * (wg_session_lease_begin) are held by another node. They leave the
 * session and its address tables but stay leased in the routing plugin,
 * so that it offers others when the caller has the session lease again
 * (wg_session_lease_begin: the caller calls up, this file never does).
 * 0 or -ENOMEM. */
int wg_session_lease_set_aside(struct wg_session *s);
/* The lease is settled (claimed, or given up): the kept addresses go back
 * to the routing plugin. Also done when the session ends. */
void wg_session_lease_settle(struct wg_session *s);

#endif
