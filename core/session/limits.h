/* A session's own limits, resolved once when its tunnel is configured
 * (after the policies): rates per direction, the data quota, and what its
 * client may reach (util/route_filter.h). Each comes from, first match
 * wins: the session's attribute (a backend such as RADIUS, or a policy's
 * session.set_limit), the server's "users" entry, its "groups" entry, the
 * server section. */
#ifndef WG_SESSION_LIMITS_H
#define WG_SESSION_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_session;
struct wg_server;
struct wg_tunnel_config;

/* Sets s->rate_in_kbps/rate_out_kbps, the quota and s->filter. Returns 0,
 * or -1 when a value is unusable (logged; the session must not start, as a
 * restriction that cannot be applied must not turn into no restriction). */
int wg_session_limits_apply(struct wg_session *s, const struct wg_tunnel_config *tc);
void wg_session_limits_free(struct wg_session *s);

/* Called by the data path when the session's counters passed its quota:
 * throttles it now, or has its timer end it (never from inside the data
 * path, whose callers still hold the session). */
void wg_session_quota_reached(struct wg_session *s);
/* Why a session at its quota ends: "data quota reached", or "monthly
 * (daily, weekly) data quota reached" for the period's. */
const char *wg_session_quota_reason(const struct wg_session *s);


/* The server section's words that only the core reads: data-quota-action,
 * rekey-method, restrict-user-to-ports. 0, or -1 with the reason in why. */
struct wg_config;
int wg_limits_check_config(const struct wg_config *c, char *why, size_t whylen);

/* bytes per second -> the limiter's kbit/s (rounded up; 0 stays 0). */
uint32_t wg_limits_kbps(uint64_t bytes_per_sec);

/* period-data-quota, the sessions' side (the table: period_quota.h). */
/* The session's period quota starts: its count so far is read (and a
 * quota already used up is reached at once). */
void wg_session_period_begin(struct wg_session *s);
/* What the session moved since its last flush goes into the table. */
void wg_session_period_flush(struct wg_session *s);
/* A timer of the worker flushes every session and saves the table. */
int wg_period_quota_start(struct wg_server *srv);
void wg_period_quota_stop(struct wg_server *srv);

#endif
