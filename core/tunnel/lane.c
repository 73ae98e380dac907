/* Lanes beside CSTP (see lane.h), and the host functions transports call. */
#include "tunnel/lane.h"
#include "tunnel/udp_buffers.h"

#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tunnel/cstp_frame.h"
#include "net/http_parser.h"
#include "net/listen_socket.h"
#include "modules/loader.h"
#include "util/log.h"
#include "observe/metrics.h"
#include "server.h"
#include "util/current.h"
#include "session/session.h"

/* ---- the session's choice ------------------------------------------------ */

/* The first up lane in conf.d order; CSTP (NULL) when none is. */
static void choose(struct wg_session *s)
{
	s->active = NULL;
	for (struct wg_lane *l = s->lanes; l; l = l->next)
		if (l->up) {
			s->active = l;
			return;
		}
}

/* ---- transports ------------------------------------------------------------ */

size_t wg_lanes_attach(struct wg_server *srv, const struct wg_loaded_plugin *ps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct wg_loaded_plugin *p = &ps[i];
		if (!p->initialized || p->desc->kind != WG_PLUGIN_TRANSPORT)
			continue;
		if (srv->n_transports == WG_MAX_TRANSPORTS) {
			wg_log(NULL, WG_LOG_WARN, "transport %s: more than %d transports enabled; this one is not used",
			       p->desc->name, WG_MAX_TRANSPORTS);
			continue;
		}
		struct wg_transport *t = calloc(1, sizeof(*t));
		if (!t) {
			wg_log(NULL, WG_LOG_ERROR, "transport %s: out of memory", p->desc->name);
			continue;
		}
		t->plugin = p;
		t->ops = p->desc->ops;
		t->state = p->state;
		srv->transports[srv->n_transports++] = t;
	}
	return srv->n_transports;
}

_Static_assert(WG_MAX_TRANSPORTS == sizeof(((struct wg_server *)0)->transports) / sizeof(struct wg_transport *),
	       "server.h's transport table has WG_MAX_TRANSPORTS entries");

void wg_lanes_stats(struct wg_server *srv, struct wg_metrics *m)
{
	m->n_transports = 0;
	for (size_t i = 0; i < srv->n_transports && m->n_transports < WG_METRICS_MAX_TRANSPORTS; i++) {
		struct wg_transport *t = srv->transports[i];
		struct wg_metrics_transport *mt = &m->transports[m->n_transports++];
		struct wg_transport_stats st = {.struct_size = sizeof(st)};
		snprintf(mt->name, sizeof(mt->name), "%s", t->plugin->desc->name);
		if (WG_OPS_HAS(t->ops, stats))
			t->ops->stats(t->state, &st);
		mt->lanes_up = st.lanes_up;
		mt->handshakes = st.handshakes;
		mt->dropped = st.dropped;
	}
	m->transport_text_len = 0;
	for (size_t i = 0; i < srv->n_transports; i++) {
		struct wg_transport *t = srv->transports[i];
		size_t room = sizeof(m->transport_text) - m->transport_text_len;
		if (!WG_OPS_HAS(t->ops, metrics_text) || room < 2)
			continue;
		size_t k = t->ops->metrics_text(t->state, m->transport_text + m->transport_text_len, room);
		if (k < room) /* a plugin that filled it all may have been cut */
			m->transport_text_len += k;
		m->transport_text[m->transport_text_len] = '\0';
	}
}

json_t *wg_lanes_json(const struct wg_session *s)
{
	json_t *all = NULL;
	char buf[8192];

	for (const struct wg_lane *l = s->lanes; l; l = l->next) {
		const struct wg_transport_ops *ops = l->t->ops;
		json_t *v;
		size_t k;
		if (!WG_OPS_HAS(ops, lane_json) || (k = ops->lane_json(l->t->state, l->ctx, buf, sizeof(buf))) == 0 ||
		    k >= sizeof(buf))
			continue;
		buf[k] = '\0';
		if (!(v = json_loads(buf, JSON_DECODE_ANY, NULL))) {
			wg_log(s, WG_LOG_WARN, "%s: its lane_json is not JSON; not shown", wg_lane_name(l));
			continue;
		}
		if (!all)
			all = json_object();
		json_object_set_new(all, wg_lane_name(l), v);
	}
	return all;
}

const char *wg_lane_name(const struct wg_lane *l)
{
	return l->t->plugin->desc->name;
}

/* ---- CONNECT ------------------------------------------------------------------ */

unsigned wg_lanes_offer(struct wg_session *s, WOLFSSL *ssl, const struct wg_http_request *req, uint32_t mtu,
			char *out, size_t outlen, char *names, size_t nameslen)
{
	struct wg_server *srv = s->srv;
	struct wg_lane **tail = &s->lanes;
	unsigned offered = 0;
	size_t used = 0, nused = 0;
	struct wg_lane_offer o = {
		.struct_size = sizeof(o), .mtu = mtu, .dpd_s = s->tc.dpd_s, .keepalive_s = s->tc.keepalive_s};

	if (outlen)
		out[0] = '\0';
	if (nameslen)
		names[0] = '\0';
	while (*tail)
		tail = &(*tail)->next;
	for (size_t i = 0; i < srv->n_transports; i++) {
		struct wg_transport *t = srv->transports[i];
		struct wg_lane *l = calloc(1, sizeof(*l));
		if (!l)
			break;
		l->s = s;
		l->t = t;
		l->req = req;
		l->ssl = ssl;
		int r = t->ops->offer(t->state, l, &o, &l->ctx);
		l->req = NULL;
		l->ssl = NULL;
		if (r == 0 && (l->hdr_full || used + l->hdr_len >= outlen)) {
			/* A lane the client is not told of would never come up. */
			wg_log(s, WG_LOG_WARN, "%s: its CONNECT headers do not fit; no lane", wg_lane_name(l));
			t->ops->close(t->state, l->ctx);
			r = -1;
		}
		if (r != 0) {
			free(l->hdr);
			free(l);
			continue;
		}
		if (l->hdr_len) {
			memcpy(out + used, l->hdr, l->hdr_len + 1);
			used += l->hdr_len;
		}
		free(l->hdr);
		l->hdr = NULL;
		int k = snprintf(names + nused, nameslen - nused, "%s%s", offered ? ", " : "", wg_lane_name(l));
		if (k > 0 && nused + (size_t)k < nameslen)
			nused += (size_t)k;
		*tail = l;
		tail = &l->next;
		offered++;
	}
	return offered;
}

void wg_lanes_close(struct wg_session *s)
{
	struct wg_lane *l = s->lanes;

	/* Detached first: a close() that calls back (lane_down) finds no lane. */
	s->lanes = NULL;
	s->active = NULL;
	while (l) {
		struct wg_lane *next = l->next;
		struct wg_transport *t = l->t;
		/* Packets queued for this lane must not reach it after close(). */
		for (size_t i = 0; i < t->n; i++)
			if (t->pkts[i].lane_ctx == l->ctx)
				t->pkts[i].len = 0, t->pkts[i].lane_ctx = NULL;
		l->s = NULL;
		t->ops->close(t->state, l->ctx);
		free(l);
		l = next;
	}
}

/* ---- sending --------------------------------------------------------------- */

/* Hands the batch to the plugin, leaving out packets of lanes closed since
 * they were queued. */
static void transport_send(struct wg_transport *t)
{
	size_t k = 0;

	for (size_t i = 0; i < t->n; i++)
		if (t->pkts[i].lane_ctx)
			t->pkts[k++] = t->pkts[i];
	if (k) {
		t->ops->send(t->state, t->pkts, k);
		t->sent = true;
	}
	t->n = 0;
	t->used = 0;
}

bool wg_lane_queue(struct wg_lane *l, const uint8_t *pkt, size_t len)
{
	struct wg_transport *t = l->t;
	size_t need = WG_LANE_HEADROOM + len;

	if (len > l->max_payload || need > sizeof(t->buf))
		return false;
	if (t->n == WG_LANE_BATCH || t->used + need > sizeof(t->buf))
		transport_send(t);
	uint8_t *dst = t->buf + t->used + WG_LANE_HEADROOM;
	memcpy(dst, pkt, len);
	t->pkts[t->n++] = (struct wg_lane_packet){
		.lane_ctx = l->ctx, .data = dst, .len = (uint32_t)len, .type = WG_CSTP_DATA};
	t->used += need;
	return true;
}

void wg_lanes_flush(struct wg_server *srv)
{
	for (size_t i = 0; i < srv->n_transports; i++) {
		struct wg_transport *t = srv->transports[i];
		if (t->n)
			transport_send(t);
		if (t->sent) {
			t->sent = false;
			t->ops->flush(t->state);
		}
	}
}

/* ---- host functions for transports ------------------------------------------ */

struct wg_watch {
	struct event *ev;
	void (*cb)(int fd, void *arg);
	void *arg;
};

static void on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct wg_watch *w = arg;

	(void)what;
	w->cb((int)fd, w->arg);
}

struct wg_watch *wg_host_fd_watch(int fd, void (*cb)(int fd, void *arg), void *arg)
{
	struct wg_server *srv = wg_server_current();
	struct wg_watch *w;

	if (!srv || !srv->base || fd < 0 || !cb || !(w = calloc(1, sizeof(*w))))
		return NULL;
	w->cb = cb;
	w->arg = arg;
	w->ev = event_new(srv->base, fd, EV_READ | EV_PERSIST, on_watch, w);
	if (!w->ev || event_add(w->ev, NULL) < 0) {
		if (w->ev)
			event_free(w->ev);
		free(w);
		return NULL;
	}
	return w;
}

void wg_host_fd_unwatch(struct wg_watch *w)
{
	if (!w)
		return;
	event_free(w->ev);
	free(w);
}

/* "udp-buffer-bytes" on a transport's UDP socket. Plugins ask for it while
 * the process is still privileged, so the forcing options can pass the
 * sysctl maximum; the log says what the kernel granted. */
static int size_udp_buffers(struct wg_server *srv, int fd, const char *name)
{
	int want = (int)wg_config_int(srv->scfg, "udp-buffer-bytes");
	struct wg_udp_buffers got;
	int r;

	if (want <= 0)
		return 0;
	if ((r = wg_udp_buffers_set(fd, want, &got)) < 0)
		return r;
	/* The kernel reports twice what it was asked for. */
	wg_log(NULL, got.rcv / 2 < want || got.snd / 2 < want ? WG_LOG_WARN : WG_LOG_NOTICE,
	       "%s socket buffers: receive %d, send %d bytes (udp-buffer-bytes %d%s)", name, got.rcv / 2, got.snd / 2,
	       want, got.forced ? "" : "; not privileged, capped by net.core.rmem_max/wmem_max");
	return 0;
}

int wg_host_udp_socket_buffers(int fd, const char *name)
{
	struct wg_server *srv = wg_server_current();

	if (!srv || fd < 0)
		return -EINVAL;
	return size_udp_buffers(srv, fd, name && *name ? name : "UDP");
}

int wg_host_transport_udp_socket(void)
{
	struct wg_server *srv = wg_server_current();
	const char *listen;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, port;

	if (!srv || srv->udp_taken)
		return -1;
	port = (int)wg_config_int(srv->scfg, "udp-port");
	if (port == 0)
		return -1;
	srv->udp_taken = true;
	if (srv->worker.udp_fd >= 0) {
		/* A worker process: its socket of the SO_REUSEPORT group. */
		fd = srv->worker.udp_fd;
		srv->worker.udp_fd = -1;
		size_udp_buffers(srv, fd, "DTLS");
		return fd;
	}
	listen = wg_config_string(srv->scfg, "listen");
	if (wg_listen_addr(listen ? listen : "0.0.0.0", port, &ss, &len) < 0)
		return -1;
	fd = wg_listen_socket((struct sockaddr *)&ss, len, SOCK_DGRAM, false);
	if (fd < 0) {
		wg_log(NULL, WG_LOG_ERROR, "cannot bind UDP port %d: %s", port, strerror(-fd));
		return -1;
	}
	size_udp_buffers(srv, fd, "DTLS");
	return fd;
}

const char *wg_host_lane_request_header(const struct wg_lane *l, const char *name)
{
	return l && l->req && name ? wg_http_header(l->req, name) : NULL;
}

int wg_host_lane_add_header(struct wg_lane *l, const char *name, const char *value)
{
	size_t need;

	if (!l || !l->req || !name || !value || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		return -1;
	need = strlen(name) + 2 + strlen(value) + 2;
	if (l->hdr_len + need + 1 > 4096) {
		l->hdr_full = true;
		return -1;
	}
	if (l->hdr_len + need + 1 > l->hdr_cap) {
		size_t cap = l->hdr_cap ? l->hdr_cap * 2 : 512;
		while (cap < l->hdr_len + need + 1)
			cap *= 2;
		char *n = realloc(l->hdr, cap);
		if (!n) {
			l->hdr_full = true;
			return -1;
		}
		l->hdr = n;
		l->hdr_cap = cap;
	}
	l->hdr_len += (size_t)snprintf(l->hdr + l->hdr_len, l->hdr_cap - l->hdr_len, "%s: %s\r\n", name, value);
	return 0;
}

int wg_host_lane_tls_export(struct wg_lane *l, const char *label, uint8_t *out, size_t len)
{
	if (!l || !l->ssl || !label || !out || len == 0)
		return -1;
	return wolfSSL_export_keying_material(l->ssl, out, len, label, strlen(label), NULL, 0, 0) == WOLFSSL_SUCCESS
		       ? 0
		       : -1;
}

int wg_host_lane_tls_export_context(struct wg_lane *l, const char *label, const uint8_t *ctx, size_t ctx_len,
				    uint8_t *out, size_t len)
{
	static const uint8_t none;

	if (!l || !l->ssl || !label || !out || len == 0 || (!ctx && ctx_len))
		return -1;
	return wolfSSL_export_keying_material(l->ssl, out, len, label, strlen(label), ctx ? ctx : &none, ctx_len,
					      1) == WOLFSSL_SUCCESS
		       ? 0
		       : -1;
}

const struct wg_session *wg_host_lane_session(const struct wg_lane *l)
{
	return wg_lane_owner(l);
}

struct wg_session *wg_lane_owner(const struct wg_lane *l)
{
	return l ? l->s : NULL;
}

void wg_host_lane_up(struct wg_lane *l, size_t max_payload, const char *peer)
{
	struct wg_session *s = l ? l->s : NULL;

	if (!s)
		return;
	l->up = true;
	l->max_payload = max_payload;
	snprintf(l->peer, sizeof(l->peer), "%s", peer ? peer : "?");
	s->last_rx = time(NULL);
	choose(s);
	wg_log(s, WG_LOG_INFO, "%s channel up from %s (packets up to %zu bytes)", wg_lane_name(l), l->peer,
	       max_payload);
}

void wg_host_lane_down(struct wg_lane *l, const char *why)
{
	struct wg_session *s = l ? l->s : NULL;

	if (!s || !l->up)
		return;
	l->up = false;
	choose(s);
	wg_log(s, WG_LOG_INFO, "%s channel closed (%s); %s", wg_lane_name(l), why ? why : "?",
	       s->active ? "packets go over another lane" : "packets go over TLS");
	if (!s->cstp && !s->active)
		wg_session_detached(s);
}

