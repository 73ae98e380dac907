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

#endif
