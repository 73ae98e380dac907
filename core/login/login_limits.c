/* Glue between the login path, the ban table (ban.c) and the metrics. */
#include "login/login_limits.h"

#include <event2/event.h>

#include "cluster/cluster.h"
#include "net/ban.h"
#include "observe/events.h"
#include "util/log.h"
#include "observe/metrics.h"
#include "server.h"

static double seconds_since(const struct timespec *since)
{
	struct timespec now;

	if (!since || (since->tv_sec == 0 && since->tv_nsec == 0))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

static void banned(struct wg_server *srv, const char *addr)
{
	wg_log(NULL, WG_LOG_WARN, "%s: banned for %u s after %u failed logins within %u s", addr, srv->ban_time,
	       srv->ban_failures, srv->ban_window);
	wg_events_emit(srv, "ban",
		       json_pack("{s:s, s:I, s:s}", "client_address", addr, "seconds", (json_int_t)srv->ban_time, "reason",
				 "failed logins"));
	wg_cluster_ban(srv, addr, srv->ban_time); /* every node of a cluster */
}

unsigned wg_login_failed(struct wg_server *srv, const char *addr, const char *backend, const struct timespec *since)
{
	time_t now = time(NULL);

	wg_metrics_login(backend, false, seconds_since(since));
	if (!srv->bans)
		return 0;
	if (wg_ban_failure(srv->bans, addr, now) == 1)
		banned(srv, addr);
	wg_cluster_login_failed(srv, addr); /* the count of every node, when in a cluster */
	return wg_ban_delay_ms(srv->bans, addr, now);
}

void wg_login_succeeded(struct wg_server *srv, const char *backend, const struct timespec *since)
{
	(void)srv;
	wg_metrics_login(backend, true, seconds_since(since));
}

void wg_login_refused(struct wg_server *srv, const char *addr, enum wg_login_cap cap)
{
	static const char *const names[] = {"max-logins-per-connection", "max-logins-per-address", "max-logins"};
	const unsigned limits[] = {srv->max_logins_per_conn, srv->max_logins_per_addr, srv->max_logins};
	static time_t said[3];
	time_t now = time(NULL);

	if (now != said[cap]) {
		said[cap] = now;
		wg_log(NULL, WG_LOG_NOTICE, "%s: login refused: %s (%u) reached", addr, names[cap], limits[cap]);
	}
	/* The server-wide cap is not the client's doing. */
	if (cap == WG_LOGIN_CAP_SERVER || !srv->bans)
		return;
	if (wg_ban_failure(srv->bans, addr, now) == 1)
		banned(srv, addr);
	wg_cluster_login_failed(srv, addr);
}

bool wg_login_defer(struct wg_server *srv, const char *addr, struct event *later, bool *pending)
{
	unsigned ms = srv->bans ? wg_ban_delay_ms(srv->bans, addr, time(NULL)) : 0;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (ms == 0)
		return false;
	*pending = false;
	evtimer_add(later, &tv);
	return true;
}

bool wg_login_banned(struct wg_server *srv, const char *addr)
{
	time_t now = time(NULL);
	unsigned left = srv->bans ? wg_ban_remaining(srv->bans, addr, now) : 0;

	if (left == 0)
		return false;
	if (wg_ban_note_refused(srv->bans, addr, now))
		wg_log(NULL, WG_LOG_NOTICE, "%s: connection refused: address banned for %u more s", addr, left);
	return true;
}
