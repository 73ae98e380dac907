/* The function table plugins call into. Plugins never link against the
 * core: everything they may do is here, and the table only grows at its end. */
#include "host/host.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "login/auth.h"
#include "login/plugin_http.h"
#include "login/policy.h"
#include "confine/privsep.h"
#include "config/config.h"
#include "hashmap.h"
#include "tunnel/lane.h"
#include "util/log.h"
#include "server.h"
#include "util/current.h"
#include "session/session.h"
#include "util/workpool.h"

struct wg_timer {
	struct event *ev;
	void (*cb)(void *arg);
	void *arg;
	int repeat;
};

static void host_log(const struct wg_session *s, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wg_vlog_from("plugin", s, level, fmt, ap);
	va_end(ap);
}

static void host_vlog(const struct wg_session *s, int level, const char *fmt, va_list ap)
{
	wg_vlog_from("plugin", s, level, fmt, ap);
}

static void timer_fire(evutil_socket_t fd, short what, void *arg)
{
	struct wg_timer *t = arg;

	(void)fd;
	(void)what;
	if (t->repeat) {
		t->cb(t->arg);
		return;
	}
	/* One-shot timers are the host's to free once they have fired. */
	void (*cb)(void *) = t->cb;
	void *cb_arg = t->arg;
	event_free(t->ev);
	free(t);
	cb(cb_arg);
}

static struct wg_timer *host_timer_add(uint32_t after_ms, int repeat, void (*cb)(void *arg), void *arg)
{
	struct wg_server *srv = wg_server_current();
	struct wg_timer *t;
	struct timeval tv = {.tv_sec = after_ms / 1000, .tv_usec = (after_ms % 1000) * 1000};

	if (!srv || !cb)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cb = cb;
	t->arg = arg;
	t->repeat = repeat;
	t->ev = event_new(srv->base, -1, repeat ? EV_PERSIST : 0, timer_fire, t);
	if (!t->ev || event_add(t->ev, &tv) < 0) {
		if (t->ev)
			event_free(t->ev);
		free(t);
		return NULL;
	}
	return t;
}

static void host_timer_del(struct wg_timer *t)
{
	if (!t)
		return;
	event_free(t->ev);
	free(t);
}

static int host_run_blocking(void (*work)(void *arg), void (*done)(void *arg), void *arg)
{
	struct wg_server *srv = wg_server_current();

	if (!srv || !srv->pool)
		return -1;
	return wg_workpool_submit(srv->pool, work, done, arg);
}

static const char *host_session_get(const struct wg_session *s, const char *attr)
{
	return wg_session_attr(s, attr);
}

static void host_session_foreach(void (*cb)(const struct wg_session *sess, void *arg), void *arg)
{
	struct wg_server *srv = wg_server_current();
	size_t n;
	void **all;
	uint8_t (*cookies)[WG_COOKIE_LEN];

	if (!srv || !cb)
		return;
	all = wg_hashmap_values(srv->by_cookie, &n);
	if (!all)
		return;
	/* Cookies, not pointers, carry over the loop: a callback may end its
	 * session, and a session that is gone is then simply not found. */
	cookies = malloc(n * sizeof(*cookies));
	if (cookies) {
		for (size_t i = 0; i < n; i++)
			memcpy(cookies[i], ((struct wg_session *)all[i])->cookie, WG_COOKIE_LEN);
		for (size_t i = 0; i < n; i++) {
			struct wg_session *s = wg_hashmap_get(srv->by_cookie, cookies[i]);
			if (s && !s->ending)
				cb(s, arg);
		}
		explicit_bzero(cookies, n * sizeof(*cookies));
	}
	free(cookies);
	free(all);
}

static void host_session_disconnect(const struct wg_session *s, const char *reason)
{
	/* Sessions are handed to plugins as const so that only the host
	 * changes them; this is the host doing so on the plugin's request. */
	if (s)
		wg_session_end((struct wg_session *)s, reason && *reason ? reason : "disconnected by policy");
}

static void host_session_set_group(const struct wg_session *s, const char *group)
{
	struct wg_session *m = (struct wg_session *)s;

	if (!m || !group)
		return;
	snprintf(m->group, sizeof(m->group), "%s", group);
	wg_log(s, WG_LOG_INFO, "group set to %s by policy", m->group[0] ? m->group : "-");
}

static int host_session_stats(const struct wg_session *s, struct wg_session_stats *out)
{
	struct wg_session_stats st;

	if (!s || !out || out->struct_size < sizeof(out->struct_size))
		return -1;
	/* Fill the host's view, then copy only as much as the plugin knows. */
	wg_session_stats(s, &st);
	size_t n = out->struct_size < sizeof(st) ? out->struct_size : sizeof(st);
	memcpy((char *)out + sizeof(out->struct_size), (char *)&st + sizeof(st.struct_size),
	       n - sizeof(out->struct_size));
	return 0;
}

static void host_session_set_attr(const struct wg_session *s, const char *key, const char *value)
{
	if (!s || !key || !*key || !value)
		return;
	if (wg_session_set_attr((struct wg_session *)s, key, value) < 0)
		wg_log(s, WG_LOG_WARN, "attribute %s not set: too many attributes or out of memory", key);
	else
		wg_log(s, WG_LOG_DEBUG, "attribute %s set to \"%s\"", key, value);
}

static int host_session_attr_at(const struct wg_session *s, size_t i, const char **key, const char **value)
{
	if (!s || i >= s->n_attrs || !key || !value)
		return -1;
	*key = s->attrs[i].key;
	*value = s->attrs[i].value;
	return 0;
}

static void host_worker_slot(unsigned *index, unsigned *count)
{
	const struct wg_server *srv = wg_server_current();

	*index = srv ? srv->worker.index : 0;
	*count = srv ? srv->worker.count : 1;
}

static const struct wg_host host_table = {
	.abi_version = WG_ABI_VERSION,
	.struct_size = sizeof(struct wg_host),
	.log = host_log,
	.vlog = host_vlog,
	.config_string = wg_config_string,
	.config_int = wg_config_int,
	.config_bool = wg_config_bool,
	.config_list_size = wg_config_list_size,
	.config_list_item = wg_config_list_item,
	.config_where = wg_config_where,
	.timer_add = host_timer_add,
	.timer_del = host_timer_del,
	.run_blocking = host_run_blocking,
	.session_get = host_session_get,
	.auth_field = wg_auth_host_field,
	.auth_client_addr = wg_auth_host_client_addr,
	.auth_username = wg_auth_host_username,
	.auth_prompt = wg_auth_host_prompt,
	.auth_succeed = wg_auth_host_succeed,
	.auth_fail = wg_auth_host_fail,
	.auth_set_attr = wg_auth_host_set_attr,
	.session_foreach = host_session_foreach,
	.session_disconnect = host_session_disconnect,
	.session_set_group = host_session_set_group,
	.session_stats = host_session_stats,
	.auth_cert = wg_auth_host_cert,
	.session_set_attr = host_session_set_attr,
	.session_attr_at = host_session_attr_at,
	.policy_done = wg_policy_host_done,
	.open_append = wg_priv_open_append,
	.pam_authenticate = wg_priv_pam_auth,
	.worker_slot = host_worker_slot,
	.pam_service_pin = wg_priv_pam_pin,
	.transport_udp_socket = wg_host_transport_udp_socket,
	.fd_watch = wg_host_fd_watch,
	.fd_unwatch = wg_host_fd_unwatch,
	.lane_request_header = wg_host_lane_request_header,
	.lane_add_header = wg_host_lane_add_header,
	.lane_tls_export = wg_host_lane_tls_export,
	.lane_session = wg_host_lane_session,
	.lane_up = wg_host_lane_up,
	.lane_down = wg_host_lane_down,
	.rx_begin = wg_host_rx_begin,
	.lane_input = wg_host_lane_input,
	.rx_end = wg_host_rx_end,
	.lane_tls_export_context = wg_host_lane_tls_export_context,
	.auth_http_credentials = wg_auth_host_http_credentials,
	.auth_http_challenge = wg_auth_host_http_challenge,
	.auth_http_header = wg_auth_host_http_header,
	.auth_prompt_sso = wg_auth_host_prompt_sso,
	.http_respond = wg_plugin_http_respond,
	.http_client_addr = wg_plugin_http_client_addr,
	.auth_state_get = wg_auth_host_state_get,
	.auth_state_set = wg_auth_host_state_set,
	.udp_socket_buffers = wg_host_udp_socket_buffers,
};

const struct wg_host *wg_host_table(void)
{
	return &host_table;
}
