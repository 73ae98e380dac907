/* What the login path tells the ban table and the metrics, in one call per
 * event so core/login/auth.c stays about the conversation. */
#ifndef WG_LOGIN_LIMITS_H
#define WG_LOGIN_LIMITS_H

#include <stdbool.h>
#include <time.h>

struct wg_server;
struct event;

/* A backend said no (after answering since `since`, CLOCK_MONOTONIC).
 * Counts the failure for addr, bans it when it crossed ban-failures (logged)
 * and returns how long (ms) the next answer to addr should wait. */
unsigned wg_login_failed(struct wg_server *srv, const char *addr, const char *backend, const struct timespec *since);
/* A backend said yes. */
void wg_login_succeeded(struct wg_server *srv, const char *backend, const struct timespec *since);
/* A new login from addr: when its recent failures ask for a delay, arms
 * `later` with it, clears *pending and returns true (the caller returns and
 * the timer starts the login); false to go on at once. */
bool wg_login_defer(struct wg_server *srv, const char *addr, struct event *later, bool *pending);
/* The caps on login conversations in progress. */
enum wg_login_cap {
	WG_LOGIN_CAP_CONNECTION, /* max-logins-per-connection */
	WG_LOGIN_CAP_ADDRESS,    /* max-logins-per-address */
	WG_LOGIN_CAP_SERVER,     /* max-logins */
};
/* A new login conversation from addr was refused at `cap`: logged (at most
 * a line a second per cap, the refusals being the flood), and, past the
 * client's own share, counted as a failed login for addr (it may ban it). */
void wg_login_refused(struct wg_server *srv, const char *addr, enum wg_login_cap cap);
/* A connection was just accepted from addr: true when addr is banned (the
 * caller closes it; counted, and logged at most every 10 s per address). */
bool wg_login_banned(struct wg_server *srv, const char *addr);

#endif
