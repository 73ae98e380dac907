/* Per-session rates, quota and reach (limits.h). */
#include "session/limits.h"
#include "session/period_quota.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

#include "config/check_limits.h"
#include "config/config.h"
#include "hashmap.h"
#include "util/err.h"
#include "server.h"
#include "session/attrs.h"
#include "session/session_types.h"
#include "util/route_filter.h"
#include "util/log.h"

uint32_t wg_limits_kbps(uint64_t bytes_per_sec)
{
	uint64_t kbps = (bytes_per_sec * 8 + 999) / 1000;
	return kbps > UINT32_MAX ? UINT32_MAX : (uint32_t)kbps;
}

int wg_limits_check_config(const struct wg_config *c, char *why, size_t whylen)
{
	struct wg_err *err = malloc(sizeof(*err));

	if (!err) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	wg_err_init(err);
	wg_check_limits(c, err);
	int rc = err->count ? -1 : 0;
	if (rc) {
		char *nl = strchr(err->text, '\n');
		if (nl)
			*nl = '\0'; /* the first problem */
		snprintf(why, whylen, "%s", err->text);
	}
	free(err);
	return rc;
}

/* The attribute as a non-negative integer, or -1 when absent or not one. */
static int64_t attr_int(const struct wg_session *s, const char *key)
{
	char name[64];
	const char *v;
	char *end;

	snprintf(name, sizeof(name), WG_SESS_ATTR_PREFIX "%s", key);
	v = wg_session_attr(s, name);
	if (!v || !*v)
		return -1;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno || *end || x < 0) {
		wg_log(s, WG_LOG_WARN, "attribute %s=\"%s\" ignored: not a non-negative number", key, v);
		return -1;
	}
	return x;
}

static int64_t limit_int(const struct wg_session *s, const char *key)
{
	const struct wg_config *cfg = s->srv->scfg;
	int64_t v;

	if ((v = attr_int(s, key)) >= 0)
		return v;
	if ((v = wg_config_account_int(cfg, "users", s->user, key, -1)) >= 0)
		return v;
	if (s->group[0] && (v = wg_config_account_int(cfg, "groups", s->group, key, -1)) >= 0)
		return v;
	return wg_config_int(cfg, key);
}

static const char *limit_string(const struct wg_session *s, const char *key)
{
	const struct wg_config *cfg = s->srv->scfg;
	char name[64];
	const char *v;

	snprintf(name, sizeof(name), WG_SESS_ATTR_PREFIX "%s", key);
	if ((v = wg_session_attr(s, name)) != NULL)
		return v;
	if ((v = wg_config_account_string(cfg, "users", s->user, key)) != NULL)
		return v;
	if (s->group[0] && (v = wg_config_account_string(cfg, "groups", s->group, key)) != NULL)
		return v;
	return wg_config_string(cfg, key);
}

static bool limit_bool(const struct wg_session *s, const char *key)
{
	const struct wg_config *cfg = s->srv->scfg;
	char name[64];
	const char *v;
	int b;

	snprintf(name, sizeof(name), WG_SESS_ATTR_PREFIX "%s", key);
	if ((v = wg_session_attr(s, name)) != NULL && *v)
		return strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0;
	if ((b = wg_config_account_bool(cfg, "users", s->user, key, -1)) >= 0)
		return b;
	if (s->group[0] && (b = wg_config_account_bool(cfg, "groups", s->group, key, -1)) >= 0)
		return b;
	return wg_config_bool(cfg, key) == 1;
}

/* The smaller of two limits, 0 meaning none. */
static uint32_t tighter(uint32_t a, uint32_t b)
{
	if (!a)
		return b;
	return b && b < a ? b : a;
}

int wg_session_limits_apply(struct wg_session *s, const struct wg_tunnel_config *tc)
{
	int64_t rx = limit_int(s, WG_ATTR_RX_PER_SEC), tx = limit_int(s, WG_ATTR_TX_PER_SEC);
	const char *ports = limit_string(s, WG_ATTR_RESTRICT_PORTS);
	bool routes = limit_bool(s, WG_ATTR_RESTRICT_ROUTES);

	/* tunnel.rate_limit_kbps (a policy's, both ways) still applies. */
	s->rate_in_kbps = tighter(s->tc.rate_limit_kbps, wg_limits_kbps((uint64_t)rx));
	s->rate_out_kbps = tighter(s->tc.rate_limit_kbps, wg_limits_kbps((uint64_t)tx));
	s->quota_bytes = (uint64_t)limit_int(s, WG_ATTR_DATA_QUOTA);
	s->quota_throttle = strcmp(wg_config_string(s->srv->scfg, "data-quota-action"), "throttle") == 0;
	s->period_quota = (uint64_t)limit_int(s, "period-data-quota");
	s->period = wg_period_parse(wg_config_string(s->srv->scfg, "data-quota-period"));
	if (s->period < 0)
		s->period = WG_PERIOD_MONTH; /* refused by the checks; not reached */
	wg_session_limits_free(s);
	if (routes || (ports && *ports)) {
		char err[160];
		s->filter = calloc(1, sizeof(*s->filter));
		if (!s->filter)
			return -1;
		if (routes)
			wg_route_filter_set_routes(s->filter, tc);
		if (ports && *ports && wg_port_rules_parse(ports, s->filter, err, sizeof(err)) < 0) {
			wg_log(s, WG_LOG_ERROR, "restrict-user-to-ports \"%s\": %s; the session is refused", ports,
			       err);
			wg_session_limits_free(s);
			return -1;
		}
	}
	if (s->rate_in_kbps || s->rate_out_kbps || s->quota_bytes || s->filter)
		wg_log(s, WG_LOG_INFO,
		       "limits: from client %u kbit/s, to client %u kbit/s (0: none), quota %llu bytes%s%s%s",
		       s->rate_in_kbps, s->rate_out_kbps, (unsigned long long)s->quota_bytes,
		       s->quota_bytes ? (s->quota_throttle ? " then throttle" : " then disconnect") : "",
		       routes ? ", restricted to its routes" : "",
		       s->filter && s->filter->ports ? ", restricted ports" : "");
	if (s->period_quota)
		wg_log(s, WG_LOG_INFO, "data quota per %s: %llu bytes for user %s", wg_period_name(s->period),
		       (unsigned long long)s->period_quota, s->user);
	wg_session_period_begin(s);
	return 0;
}

void wg_session_limits_free(struct wg_session *s)
{
	free(s->filter);
	s->filter = NULL;
}

/* Which quota a session reached, as the log and the end reason say it. */
static const char *quota_name(const struct wg_session *s)
{
	if (!s->period_reached)
		return "data quota";
	switch (s->period) {
	case WG_PERIOD_DAY: return "daily data quota";
	case WG_PERIOD_WEEK: return "weekly data quota";
	default: return "monthly data quota";
	}
}

const char *wg_session_quota_reason(const struct wg_session *s)
{
	switch (s->period_reached ? s->period : -1) {
	case WG_PERIOD_DAY: return "daily data quota reached";
	case WG_PERIOD_WEEK: return "weekly data quota reached";
	case WG_PERIOD_MONTH: return "monthly data quota reached";
	default: return "data quota reached";
	}
}

void wg_session_quota_reached(struct wg_session *s)
{
	if (s->quota_reached)
		return;
	s->quota_reached = true;
	/* Not the session's own quota (the data path checks both): its user's
	 * for the period. */
	if (!s->quota_bytes || s->rx_bytes + s->tx_bytes < s->quota_bytes)
		s->period_reached = true;
	if (s->quota_throttle) {
		uint32_t kbps = wg_limits_kbps((uint64_t)wg_config_int(s->srv->scfg, "data-quota-throttle-per-sec"));
		s->rate_in_kbps = tighter(s->rate_in_kbps, kbps);
		s->rate_out_kbps = tighter(s->rate_out_kbps, kbps);
		wg_log(s, WG_LOG_NOTICE, "%s of %llu bytes reached: throttled to %u kbit/s each way", quota_name(s),
		       (unsigned long long)(s->period_reached ? s->period_quota : s->quota_bytes), kbps);
		return;
	}
	wg_log(s, WG_LOG_NOTICE, "%s of %llu bytes reached: the session ends", quota_name(s),
	       (unsigned long long)(s->period_reached ? s->period_quota : s->quota_bytes));
	if (s->timer)
		event_active(s->timer, EV_TIMEOUT, 0); /* session_timer_cb ends it */
}

/* ---- period-data-quota: the sessions' side of the shared table
 * (period_quota.c keeps the table; it calls nothing up here) --------- */

#define FLUSH_S 2      /* sessions add what they moved this often */
#define SAVE_EVERY 5   /* flushes between two saves of the state file */

static void period_reached(struct wg_session *s)
{
	if (s->quota_reached || s->ending) /* an ending session's last flush only counts */
		return;
	s->period_reached = true;
	wg_session_quota_reached(s);
}

void wg_session_period_begin(struct wg_session *s)
{
	struct wg_period_quota *t = s->srv->period_quota;

	if (!s->period_quota || !t)
		return;
	s->period_pid = wg_period_id(s->period, time(NULL));
	s->period_flushed = s->rx_bytes + s->tx_bytes;
	s->period_base = wg_period_quota_add(t, s->user, s->period_pid, 0);
	if (s->period_base == UINT64_MAX) {
		wg_log(s, WG_LOG_WARN, "the data quota table is full: %s's volume this %s is not counted", s->user,
		       wg_period_name(s->period));
		s->period_quota = 0;
		return;
	}
	if (s->period_base >= s->period_quota)
		period_reached(s);
}

void wg_session_period_flush(struct wg_session *s)
{
	struct wg_period_quota *t = s->srv->period_quota;
	uint64_t moved = s->rx_bytes + s->tx_bytes;

	if (!s->period_quota || !t)
		return;
	uint32_t pid = wg_period_id(s->period, time(NULL));
	uint64_t total = wg_period_quota_add(t, s->user, pid, moved - s->period_flushed);
	s->period_flushed = moved;
	if (total == UINT64_MAX)
		return;
	s->period_pid = pid;
	s->period_base = total;
	if (total >= s->period_quota)
		period_reached(s);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	struct wg_server *srv = arg;
	size_t n;
	void **all;
	int rc;

	(void)fd;
	(void)what;
	if (!(all = wg_hashmap_values(srv->by_cookie, &n)))
		return;
	for (size_t i = 0; i < n; i++)
		wg_session_period_flush(all[i]);
	free(all);
	if (++srv->period_ticks % SAVE_EVERY == 0 && (rc = wg_period_quota_save(srv->period_quota)) < 0)
		wg_log(NULL, WG_LOG_WARN, "data-quota-state-file: cannot write: %s", strerror(-rc));
}

int wg_period_quota_start(struct wg_server *srv)
{
	struct timeval every = {.tv_sec = FLUSH_S};

	if (!srv->period_quota)
		return 0;
	srv->period_ev = event_new(srv->base, -1, EV_PERSIST, tick, srv);
	return srv->period_ev && event_add(srv->period_ev, &every) == 0 ? 0 : -1;
}

void wg_period_quota_stop(struct wg_server *srv)
{
	if (srv->period_ev) {
		event_free(srv->period_ev);
		srv->period_ev = NULL;
	}
	wg_period_quota_save(srv->period_quota);
}
