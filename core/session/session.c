/* Sessions: creation at login, lookup by cookie, leases, and the single
 * timer per session that enforces idle, session and reconnect timeouts
 * (one libevent timer each, so a tick never walks all sessions). */
#include "session/session.h"
#include "session/lease.h"
#include "session/user_count.h"
#include "util/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "net/conn.h"
#include "observe/events.h"
#include "modules/gen.h"
#include "session/period_quota.h"
#include "hashmap.h"
#include "util/hex.h"
#include "util/log.h"
#include "observe/metrics.h"
#include "server.h"
#include "session/limits.h"

static const struct wg_session_handlers no_handlers;

/* A server set up piecemeal (unit tests) may have installed none. */
static const struct wg_session_handlers *handlers(const struct wg_server *srv)
{
	return srv->session_handlers ? srv->session_handlers : &no_handlers;
}

static void session_timer_cb(evutil_socket_t fd, short what, void *arg);

static int random_bytes(void *buf, size_t n)
{
	return getrandom(buf, n, 0) == (ssize_t)n ? 0 : -1;
}

/* Drops what the login gave the session: its generation, groups and
 * attributes. */
static void free_identity(struct wg_session *s)
{
	wg_gen_unref(s->gen);
	for (unsigned i = 0; i < s->n_groups; i++)
		free(s->groups[i]);
	free(s->groups_joined);
	for (unsigned i = 0; i < s->n_attrs; i++) {
		free(s->attrs[i].key);
		free(s->attrs[i].value);
	}
}

static void session_schedule(struct wg_session *s)
{
	struct wg_server *srv = s->srv;
	time_t now = time(NULL), next = now + 3600;

	if (s->cstp == NULL && s->active == NULL)
		next = s->disconnected_at + srv->cookie_lifetime;
	else {
		unsigned idle = s->tc.idle_timeout_s, limit = s->tc.session_timeout_s;
		if (idle && s->last_rx + (time_t)idle < next)
			next = s->last_rx + idle;
		if (limit && s->created + (time_t)limit < next)
			next = s->created + limit;
	}
	struct timeval tv = {.tv_sec = next > now ? next - now : 0, .tv_usec = 1000};
	evtimer_add(s->timer, &tv);
}

struct wg_session *wg_session_new(struct wg_server *srv, const char *user, const char *const *groups,
				  const char *selected_group, const char *client_addr, const char *user_agent,
				  const struct wg_attr *attrs, unsigned n_attrs)
{
	struct wg_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->srv = srv;
	s->id = (srv->next_session_id += srv->worker.count);
	snprintf(s->id_str, sizeof(s->id_str), "%llu", (unsigned long long)s->id);
	snprintf(s->user, sizeof(s->user), "%s", user);
	snprintf(s->client_addr, sizeof(s->client_addr), "%s", client_addr ? client_addr : "");
	snprintf(s->user_agent, sizeof(s->user_agent), "%s", user_agent ? user_agent : "");
	for (unsigned i = 0; groups && groups[i] && s->n_groups < WG_MAX_GROUPS; i++)
		s->groups[s->n_groups++] = strdup(groups[i]);
	if (selected_group && *selected_group) {
		for (unsigned i = 0; i < s->n_groups; i++)
			if (s->groups[i] && strcmp(s->groups[i], selected_group) == 0)
				snprintf(s->group, sizeof(s->group), "%s", selected_group);
	}
	if (!s->group[0] && s->n_groups && s->groups[0])
		snprintf(s->group, sizeof(s->group), "%s", s->groups[0]);
	/* Joined here, on the loop thread, so that plugins' worker threads
	 * reading WG_SESS_GROUPS later only read it. */
	(void)wg_session_attr(s, WG_SESS_GROUPS);
	for (unsigned i = 0; i < n_attrs && i < WG_MAX_ATTRS; i++) {
		s->attrs[i].key = strdup(attrs[i].key);
		s->attrs[i].value = strdup(attrs[i].value);
		s->n_attrs++;
	}
	s->created = s->last_rx = time(NULL);
	s->gen = wg_gen_ref(srv->gen);
	s->vhost = &s->gen->vhosts[0];
	s->timer = evtimer_new(srv->base, session_timer_cb, s);
	if (!s->timer || random_bytes(s->cookie, sizeof(s->cookie)) < 0 ||
	    wg_hashmap_put(srv->by_cookie, s->cookie, s) < 0) {
		if (s->timer)
			event_free(s->timer);
		free_identity(s);
		free(s);
		return NULL;
	}
	/* Until the tunnel is up the session lives as long as a cookie does. */
	s->disconnected_at = s->created;
	srv->n_sessions++;
	session_schedule(s);
	wg_log(s, WG_LOG_INFO, "session created (group %s)", s->group[0] ? s->group : "-");
	return s;
}

int wg_session_adopt_cookie(struct wg_session *s, const uint8_t cookie[WG_COOKIE_LEN])
{
	struct wg_server *srv = s->srv;

	if (wg_hashmap_get(srv->by_cookie, cookie))
		return -EEXIST;
	wg_hashmap_del(srv->by_cookie, s->cookie);
	memcpy(s->cookie, cookie, WG_COOKIE_LEN);
	return wg_hashmap_put(srv->by_cookie, s->cookie, s) < 0 ? -ENOMEM : 0;
}

void wg_session_cookie_hex(const struct wg_session *s, char out[2 * WG_COOKIE_LEN + 1])
{
	wg_hex_encode(s->cookie, WG_COOKIE_LEN, out);
}

struct wg_session *wg_session_by_cookie(struct wg_server *srv, const char *cookie_hex)
{
	uint8_t key[WG_COOKIE_LEN];

	/* The cookie is 256 random bits, so a lookup's timing says nothing
	 * useful about any other cookie. */
	if (!cookie_hex || strlen(cookie_hex) != 2 * WG_COOKIE_LEN || wg_hex_decode(cookie_hex, key, sizeof(key)) < 0)
		return NULL;
	struct wg_session *s = wg_hashmap_get(srv->by_cookie, key);
	return s && !s->ending ? s : NULL;
}

/* Timeouts an auth backend set (RADIUS Session-Timeout, say) replace the
 * server's defaults; the routing plugin and policy may still change them. */
static void apply_backend_timeouts(const struct wg_session *s, struct wg_tunnel_config *tc)
{
	for (unsigned i = 0; i < s->n_attrs; i++) {
		const struct wg_attr *at = &s->attrs[i];
		char *end;
		unsigned long v;
		bool session = strcmp(at->key, WG_ATTR_SESSION_TIMEOUT) == 0;
		if (!session && strcmp(at->key, WG_ATTR_IDLE_TIMEOUT) != 0)
			continue;
		errno = 0;
		v = strtoul(at->value, &end, 10);
		if (errno || end == at->value || *end || v > 86400UL * 365) {
			wg_log(s, WG_LOG_WARN, "ignoring %s \"%s\" from the auth backend: not a number of seconds", at->key,
			       at->value);
			continue;
		}
		*(session ? &tc->session_timeout_s : &tc->idle_timeout_s) = (uint32_t)v;
	}
}

/* Routes and DNS servers from the auth backend (RADIUS Framed-Route, say)
 * are added to what the routing plugin gave. */
static void apply_backend_routes(const struct wg_session *s, struct wg_tunnel_config *tc)
{
	for (unsigned i = 0; i < s->n_attrs; i++) {
		const struct wg_attr *at = &s->attrs[i];
		if (strcmp(at->key, WG_ATTR_ROUTE) == 0) {
			if (tc->n_include >= WG_MAX_ROUTES || strlen(at->value) >= sizeof(tc->include[0].net)) {
				wg_log(s, WG_LOG_WARN, "route %s from the auth backend dropped: too many or too long", at->value);
				continue;
			}
			snprintf(tc->include[tc->n_include++].net, sizeof(tc->include[0].net), "%s", at->value);
		} else if (strcmp(at->key, WG_ATTR_DNS) == 0) {
			if (tc->n_dns >= WG_MAX_DNS || strlen(at->value) >= sizeof(tc->dns[0])) {
				wg_log(s, WG_LOG_WARN, "DNS server %s from the auth backend dropped: too many or too long",
				       at->value);
				continue;
			}
			snprintf(tc->dns[tc->n_dns++], sizeof(tc->dns[0]), "%s", at->value);
		}
	}
}

static void keep_scalars(struct wg_session *s, const struct wg_tunnel_config *tc)
{
	struct wg_session_tc *k = &s->tc;

	snprintf(k->addr4, sizeof(k->addr4), "%s", tc->addr4);
	snprintf(k->netmask4, sizeof(k->netmask4), "%s", tc->netmask4);
	snprintf(k->addr6, sizeof(k->addr6), "%s", tc->addr6);
	k->prefix6 = tc->prefix6;
	k->mtu = tc->mtu;
	k->dpd_s = tc->dpd_s;
	k->keepalive_s = tc->keepalive_s;
	k->idle_timeout_s = tc->idle_timeout_s;
	k->session_timeout_s = tc->session_timeout_s;
	k->rate_limit_kbps = tc->rate_limit_kbps;
}

/* Records the leased addresses in the lookup tables. */
int wg_session_register_addresses(struct wg_session *s, const struct wg_tunnel_config *tc)
{
	struct wg_server *srv = s->srv;
	struct in_addr a4;

	if (tc->addr4[0]) {
		if (inet_pton(AF_INET, tc->addr4, &a4) != 1) {
			wg_log(s, WG_LOG_ERROR, "routing plugin gave an invalid IPv4 address \"%s\"", tc->addr4);
			return -EINVAL;
		}
		if (wg_hashmap_get(srv->by_addr4, &a4.s_addr)) {
			wg_log(s, WG_LOG_ERROR, "routing plugin leased %s twice", tc->addr4);
			/* Released at the end without it: the address stays the holder's. */
			s->tc.addr4[0] = '\0';
			return -EADDRINUSE;
		}
		s->addr4 = a4.s_addr;
		if (wg_hashmap_put(srv->by_addr4, &s->addr4, s) < 0)
			return -ENOMEM;
	}
	if (tc->addr6[0]) {
		if (wg_addr_parse6(tc->addr6, s->addr6) < 0) {
			wg_log(s, WG_LOG_ERROR, "routing plugin gave an invalid IPv6 address \"%s\"", tc->addr6);
			return -EINVAL;
		}
		/* Another session's address: registering it would send that
		 * session's traffic here. */
		if (wg_hashmap_get(srv->by_addr6, s->addr6)) {
			wg_log(s, WG_LOG_ERROR, "routing plugin leased %s twice", tc->addr6);
			s->tc.addr6[0] = '\0';
			return -EADDRINUSE;
		}
		if (wg_hashmap_put(srv->by_addr6, s->addr6, s) < 0)
			return -ENOMEM;
		s->has_addr6 = true;
	}
	return 0;
}

int wg_session_lease_begin(struct wg_session *s, struct wg_tunnel_config *tc)
{
	struct wg_server *srv = s->srv;
	int rc;

	if (s->leased)
		return 0;
	memset(tc, 0, sizeof(*tc));
	tc->struct_size = sizeof(*tc);
	tc->mtu = srv->mtu;
	tc->dpd_s = srv->dpd;
	tc->keepalive_s = srv->keepalive;
	tc->idle_timeout_s = srv->idle_timeout;
	tc->session_timeout_s = srv->session_timeout;
	tc->prefix6 = 128;
	if (srv->default_domain)
		snprintf(tc->default_domain, sizeof(tc->default_domain), "%s", srv->default_domain);
	apply_backend_timeouts(s, tc);
	rc = wg_session_lease(s, tc); /* the routing plugin of the session's generation */
	if (rc < 0) {
		wg_log(s, WG_LOG_WARN, "no address for the session: %s", rc == -EADDRNOTAVAIL ? "pool exhausted" : strerror(-rc));
		return rc;
	}
	s->leased = true;
	keep_scalars(s, tc); /* the lease is released from these at the end */
	apply_backend_routes(s, tc);
	return wg_session_register_addresses(s, tc);
}

int wg_session_tunnel_ready(struct wg_session *s, const struct wg_tunnel_config *tc)
{
	char addr4[sizeof(s->tc.addr4)], addr6[sizeof(s->tc.addr6)];

	/* A policy may change the MTU, timeouts, limits and lists; the
	 * addresses stay those leased. */
	memcpy(addr4, s->tc.addr4, sizeof(addr4));
	memcpy(addr6, s->tc.addr6, sizeof(addr6));
	keep_scalars(s, tc);
	memcpy(s->tc.addr4, addr4, sizeof(addr4));
	memcpy(s->tc.addr6, addr6, sizeof(addr6));
	free(s->pushed);
	s->pushed = handlers(s->srv)->render_pushed ? handlers(s->srv)->render_pushed(tc) : NULL;
	if (!s->pushed)
		return -ENOMEM;
	if (wg_session_limits_apply(s, tc) < 0)
		return -EINVAL;
	if (handlers(s->srv)->routes_bound)
		handlers(s->srv)->routes_bound(s);
	return 0;
}

void wg_session_hold(struct wg_session *s)
{
	s->held = true;
}

bool wg_session_release_hold(struct wg_session *s)
{
	s->held = false;
	return s->end_reason != NULL;
}

/* The routing plugin takes its lease back given the addresses it leased
 * (and other generations' parked leases of those addresses go too). */
static void release_lease(struct wg_session *s)
{
	struct wg_tunnel_config tc;

	memset(&tc, 0, sizeof(tc));
	tc.struct_size = sizeof(tc);
	snprintf(tc.addr4, sizeof(tc.addr4), "%s", s->tc.addr4);
	snprintf(tc.netmask4, sizeof(tc.netmask4), "%s", s->tc.netmask4);
	snprintf(tc.addr6, sizeof(tc.addr6), "%s", s->tc.addr6);
	tc.prefix6 = s->tc.prefix6;
	wg_session_lease_release(s, &tc);
}

void wg_session_stats(const struct wg_session *s, struct wg_session_stats *out)
{
	time_t now = time(NULL);

	memset(out, 0, sizeof(*out));
	out->struct_size = sizeof(*out);
	out->bytes_in = s->rx_bytes;
	out->bytes_out = s->tx_bytes;
	out->pkts_in = s->rx_pkts;
	out->pkts_out = s->tx_pkts;
	out->login_time = (int64_t)s->created;
	out->duration_s = now > s->created ? (uint64_t)(now - s->created) : 0;
}

void wg_session_tunnel_up(struct wg_session *s)
{
	wg_events_emit(s->srv, "connect", wg_session_event_fields(s));
	const struct wg_session_handlers *h = handlers(s->srv);
	if (h->tunnel_up)
		h->tunnel_up(s);
	if (s->acct_started)
		return;
	s->acct_started = true;
	for (unsigned i = 0; i < s->n_auth_steps; i++) {
		const struct wg_auth_ops *ops = s->auth_steps[i]->desc->ops;
		if (WG_OPS_HAS(ops, session_start))
			ops->session_start(s->auth_steps[i]->state, s);
	}
}

/* Accounting stop: only for sessions whose start was told. */
static void accounting_stop(struct wg_session *s, const char *reason)
{
	struct wg_session_stats st;

	if (!s->acct_started)
		return;
	wg_session_stats(s, &st);
	for (unsigned i = 0; i < s->n_auth_steps; i++) {
		const struct wg_auth_ops *ops = s->auth_steps[i]->desc->ops;
		if (WG_OPS_HAS(ops, session_stop))
			ops->session_stop(s->auth_steps[i]->state, s, &st, reason);
	}
}

void wg_session_detached(struct wg_session *s)
{
	if (s->ending)
		return;
	s->disconnected_at = time(NULL);
	wg_log(s, WG_LOG_INFO, "tunnel connection lost; session kept %u s for a reconnect", s->srv->cookie_lifetime);
	const struct wg_session_handlers *h = handlers(s->srv);
	if (h->detached)
		h->detached(s);
	session_schedule(s);
}

void wg_session_end(struct wg_session *s, const char *reason)
{
	struct wg_server *srv = s->srv;

	if (s->ending)
		return;
	if (s->held) {
		/* A policy call holds the session: it ends when the call returns. */
		if (!s->end_reason)
			s->end_reason = strdup(reason);
		return;
	}
	s->ending = true;
	wg_session_period_flush(s); /* its last bytes count for its user's period */
	json_t *ev = wg_session_event_fields(s);
	if (ev) {
		json_object_set_new(ev, "reason", json_string(reason));
		json_object_set_new(ev, "rx_bytes", json_integer((json_int_t)s->rx_bytes));
		json_object_set_new(ev, "tx_bytes", json_integer((json_int_t)s->tx_bytes));
		json_object_set_new(ev, "rx_packets", json_integer((json_int_t)s->rx_pkts));
		json_object_set_new(ev, "tx_packets", json_integer((json_int_t)s->tx_pkts));
		json_object_set_new(ev, "filtered_packets", json_integer((json_int_t)s->filtered_pkts));
		json_object_set_new(ev, "duration_s", json_integer((json_int_t)(time(NULL) - s->created)));
	}
	wg_events_emit(srv, "disconnect", ev);
	wg_log(s, WG_LOG_INFO, "session ended: %s (rx %llu bytes / %llu packets, tx %llu bytes / %llu packets)", reason,
	       (unsigned long long)s->rx_bytes, (unsigned long long)s->rx_pkts, (unsigned long long)s->tx_bytes,
	       (unsigned long long)s->tx_pkts);
	const struct wg_session_handlers *h = handlers(srv);
	if (h->ending)
		h->ending(srv, s);
	accounting_stop(s, reason);
	if (s->cstp) {
		struct wg_conn *c = s->cstp;
		s->cstp = NULL;
		c->owner = NULL;
		if (h->goodbye)
			h->goodbye(c, reason);
		c->close_after_flush = true;
		if (wg_conn_backlog(c) == 0)
			wg_conn_close(c, "session ended");
	}
	if (h->close_lanes)
		h->close_lanes(s);
	if (h->ended)
		h->ended(s, reason);
	release_lease(s); /* only what this node leased (an adopted session: its parked addresses) */
	wg_session_lease_settle(s);
	if (s->user_counted)
		wg_user_count_release(srv->user_count, s->user);
	s->user_counted = false;
	free(s->pushed);
	wg_session_limits_free(s);
	if (h->routes_unbound)
		h->routes_unbound(s);
	free(s->end_reason);
	if (s->addr4)
		wg_hashmap_del(srv->by_addr4, &s->addr4);
	if (s->has_addr6)
		wg_hashmap_del(srv->by_addr6, s->addr6);
	wg_hashmap_del(srv->by_cookie, s->cookie);
	srv->n_sessions--;
	wg_metrics_session_ended(s->rx_bytes, s->tx_bytes, s->rx_pkts, s->tx_pkts);
	event_free(s->timer);
	free_identity(s);
	explicit_bzero(s->cookie, sizeof(s->cookie));
	free(s);
}

void wg_session_end_all(struct wg_server *srv, const char *reason)
{
	size_t n;
	void **all = wg_hashmap_values(srv->by_cookie, &n);

	for (size_t i = 0; i < n; i++)
		wg_session_end(all[i], reason);
	free(all);
}

static void session_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct wg_session *s = arg;
	time_t now = time(NULL);

	(void)fd;
	(void)what;
	if (s->quota_reached && !s->quota_throttle) {
		wg_session_end(s, wg_session_quota_reason(s));
		return;
	}
	if (s->cstp == NULL && s->active == NULL) {
		if (now >= s->disconnected_at + (time_t)s->srv->cookie_lifetime) {
			wg_session_end(s, "cookie expired without a reconnect");
			return;
		}
	} else {
		if (s->tc.idle_timeout_s && now >= s->last_rx + (time_t)s->tc.idle_timeout_s) {
			wg_session_end(s, "idle timeout");
			return;
		}
		if (s->tc.session_timeout_s && now >= s->created + (time_t)s->tc.session_timeout_s) {
			wg_session_end(s, "session timeout");
			return;
		}
	}
	session_schedule(s);
}

void wg_session_set_vhost(struct wg_session *s, struct wg_vhost *vh)
{
	wg_gen_assign(&s->gen, vh->gen);
	s->vhost = vh;
	if (vh->name)
		wg_log(s, WG_LOG_INFO, "logged in under vhost %s", vh->name);
}

static void describe(const struct wg_session *s, struct wg_log_context *out)
{
	out->user = s->user;
	out->client_addr = s->client_addr;
	out->session_id = s->id_str;
	out->vpn_addr = s->tc.addr4[0] ? s->tc.addr4 : s->tc.addr6[0] ? s->tc.addr6 : NULL;
}

void wg_session_install_log_describer(void)
{
	wg_log_set_describer(describe);
}

/* A string a client chose may be ill-formed UTF-8, which jansson refuses:
 * then the field is null rather than the event lost. */
static void set_text(json_t *o, const char *key, const char *v)
{
	json_t *j = v && *v ? json_string(v) : NULL;
	json_object_set_new(o, key, j ? j : json_null());
}

json_t *wg_session_event_fields(const struct wg_session *s)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	set_text(o, "session_id", s->id_str);
	set_text(o, "user", s->user);
	set_text(o, "group", s->group);
	set_text(o, "client_address", s->client_addr);
	set_text(o, "vpn_address", s->tc.addr4);
	if (wg_session_vhost_name(s)) /* only with vhosts: the default server's events are as before */
		set_text(o, "vhost", wg_session_vhost_name(s));
	return o;
}
