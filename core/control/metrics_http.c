/* Serving /metrics. A request may be at most MAX_REQUEST bytes and must
 * arrive within CLIENT_TIMEOUT_S; the answer is written through an
 * evbuffer as the socket takes it, then the connection closes. */
#include "control/metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "net/ban.h"
#include "hashmap.h"
#include "net/http_parser.h"
#include "tunnel/lane.h"
#include "util/log.h"
#include "observe/metrics.h"
#include "server.h"
#include "modules/gen.h"
#include "session/session.h"

#define MAX_REQUEST 8192
#define MAX_CLIENTS 64
#define CLIENT_TIMEOUT_S 5

struct wg_metrics_http {
	struct wg_server *srv;
	int fd;
	struct event *ev;
	struct mh_client *clients;
	unsigned n_clients;
};

struct mh_client {
	struct wg_metrics_http *mh;
	int fd;
	struct event *rev, *wev, *timer;
	struct evbuffer *out;
	struct wg_http_parser *parser;
	size_t received;
	struct mh_client *prev, *next;
};

void wg_metrics_snapshot(struct wg_server *srv, struct wg_metrics *out)
{
	size_t n;
	void **all = wg_hashmap_values(srv->by_cookie, &n);
	struct wg_ban_stats bs = {0};

	*out = *wg_metrics_counters();
	out->rx_bytes = out->ended_rx_bytes;
	out->tx_bytes = out->ended_tx_bytes;
	out->rx_packets = out->ended_rx_packets;
	out->tx_packets = out->ended_tx_packets;
	for (size_t i = 0; i < n; i++) {
		const struct wg_session *s = all[i];
		if (s->ending)
			continue;
		if (s->active)
			out->sessions_dtls++;
		else if (s->cstp)
			out->sessions_cstp++;
		else
			out->sessions_waiting++;
		if (s->cluster_lease_until)
			out->cluster_leases++;
		out->rx_bytes += s->rx_bytes;
		out->tx_bytes += s->tx_bytes;
		out->rx_packets += s->rx_pkts;
		out->tx_packets += s->tx_pkts;
	}
	free(all);
	out->unauth_connections = srv->n_conns_unauth;
	if (srv->bans)
		wg_ban_stats(srv->bans, time(NULL), &bs);
	out->ban_failures = bs.failures_total;
	out->bans_total = bs.bans_total;
	out->ban_refused = bs.refused_total;
	out->bans_active = bs.active;
	out->ban_tracked = bs.tracked;
	out->generation = srv->gen ? srv->gen->number : 0;
	wg_lanes_stats(srv, out);
	wg_cluster_metrics(srv, out);
}

static void client_free(struct mh_client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->mh->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->mh->n_clients--;
	if (c->rev)
		event_free(c->rev);
	if (c->wev)
		event_free(c->wev);
	if (c->timer)
		event_free(c->timer);
	if (c->out)
		evbuffer_free(c->out);
	wg_http_parser_free(c->parser);
	close(c->fd);
	free(c);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	struct mh_client *c = arg;

	(void)what;
	if (evbuffer_write(c->out, fd) < 0 && errno != EAGAIN && errno != EINTR) {
		client_free(c);
		return;
	}
	if (evbuffer_get_length(c->out) == 0)
		client_free(c);
	else
		event_add(c->wev, NULL);
}

static void respond(struct mh_client *c, const char *status, const char *ctype, const char *body, size_t len)
{
	event_del(c->rev);
	evbuffer_add_printf(c->out,
			    "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n"
			    "Cache-Control: no-store\r\n\r\n",
			    status, ctype, len);
	evbuffer_add(c->out, body, len);
	on_write(c->fd, EV_WRITE, c);
}

static void respond_text(struct mh_client *c, const char *status, const char *text)
{
	respond(c, status, "text/plain; charset=utf-8", text, strlen(text));
}

static void answer(struct mh_client *c, const struct wg_http_request *req)
{
	struct wg_metrics m;
	size_t len;
	char *text;

	if (strcmp(req->url, "/metrics") != 0 && strncmp(req->url, "/metrics?", 9) != 0) {
		respond_text(c, "404 Not Found", "only /metrics is served here\n");
		return;
	}
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		respond_text(c, "405 Method Not Allowed", "use GET\n");
		return;
	}
	wg_metrics_snapshot(c->mh->srv, &m);
	text = wg_metrics_format(&m, &len);
	if (!text) {
		respond_text(c, "503 Service Unavailable", "out of memory\n");
		return;
	}
	respond(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", text,
		strcmp(req->method, "HEAD") == 0 ? 0 : len);
	free(text);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct mh_client *c = arg;
	char buf[2048];
	size_t used;
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)what;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(c);
		return;
	}
	c->received += (size_t)n;
	int st = wg_http_parser_feed(c->parser, buf, (size_t)n, &used);
	if (st == WG_HTTP_DONE)
		answer(c, wg_http_parser_request(c->parser));
	else if (st == WG_HTTP_ERROR)
		respond_text(c, "400 Bad Request", "bad HTTP request\n");
	else if (c->received > MAX_REQUEST)
		respond_text(c, "431 Request Header Fields Too Large", "request too large\n");
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_free(arg);
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct wg_metrics_http *mh = arg;
	struct timeval tv = {.tv_sec = CLIENT_TIMEOUT_S};
	struct event_base *base = mh->srv->base;

	(void)what;
	for (int i = 0; i < 16; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		struct mh_client *c = mh->n_clients < MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			close(cfd); /* a scraper opens one connection at a time */
			continue;
		}
		c->mh = mh;
		c->fd = cfd;
		c->next = mh->clients;
		if (mh->clients)
			mh->clients->prev = c;
		mh->clients = c;
		mh->n_clients++;
		c->rev = event_new(base, cfd, EV_READ | EV_PERSIST, on_read, c);
		c->wev = event_new(base, cfd, EV_WRITE, on_write, c);
		c->timer = evtimer_new(base, on_timeout, c);
		c->out = evbuffer_new();
		c->parser = wg_http_parser_new();
		if (!c->rev || !c->wev || !c->timer || !c->out || !c->parser) {
			client_free(c);
			continue;
		}
		event_add(c->rev, NULL);
		evtimer_add(c->timer, &tv);
	}
}

struct wg_metrics_http *wg_metrics_http_start(struct wg_server *srv, const char *host, int port)
{
	struct wg_metrics_http *mh = calloc(1, sizeof(*mh));
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int one = 1;

	if (!mh)
		return NULL;
	mh->srv = srv;
	mh->fd = -1;
	if (!host || !*host)
		host = "127.0.0.1";
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		len = sizeof(*a);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			goto bad_host;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		len = sizeof(*a);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			goto bad_host;
	}
	mh->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (mh->fd >= 0)
		setsockopt(mh->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (mh->fd < 0 || bind(mh->fd, (struct sockaddr *)&ss, len) < 0 || listen(mh->fd, 16) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "metrics: cannot listen on %s port %d: %s", host, port, strerror(errno));
		goto fail;
	}
	mh->ev = event_new(srv->base, mh->fd, EV_READ | EV_PERSIST, on_accept, mh);
	if (!mh->ev || event_add(mh->ev, NULL) < 0)
		goto fail;
	wg_log(NULL, WG_LOG_INFO, "metrics: http://%s%s%s:%d/metrics", strchr(host, ':') ? "[" : "", host,
	       strchr(host, ':') ? "]" : "", port);
	return mh;
bad_host:
	wg_log(NULL, WG_LOG_ERROR, "metrics-listen: \"%s\" is not an IP address", host);
fail:
	wg_metrics_http_stop(mh);
	return NULL;
}

void wg_metrics_http_stop(struct wg_metrics_http *mh)
{
	if (!mh)
		return;
	while (mh->clients)
		client_free(mh->clients);
	if (mh->ev)
		event_free(mh->ev);
	if (mh->fd >= 0)
		close(mh->fd);
	free(mh);
}
