/* One OpenConnect client connection, nonblocking, driven by libevent:
 * TCP connect from its own loopback source, TLS handshake (no certificate
 * check: the bench measures the server, not PKI), the XML login, CONNECT,
 * then CSTP: keepalives on a timer, DPD requests answered, optional
 * traffic. Stages and failures are counted in run->stats. */
#include "bench.h"
#include "clock.h"
#include "conn.h"
#include "cstp.h"
#include "http.h"
#include "tunnel_config.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <errno.h>
#include <stdarg.h>
#include <event2/event.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQ_CAP 4096
#define RBUF_MAX 65536
#define SBUF_MAX 65536 /* CSTP data gathered behind a pending write */


static uint8_t scratch[16384 + 64];

static void on_io(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);

/* A set-up ended (either way): the driver (client.c) starts the next one
 * from its kick event, not from inside this connection's callback. */
static void setup_ended(struct wgb_run *run)
{
	event_active(run->kick, EV_TIMEOUT, 0);
}

static void conn_release(struct wgb_conn *c)
{
	if (c->io)
		event_free(c->io);
	if (c->timer)
		event_free(c->timer);
	if (c->ssl)
		wolfSSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	c->run->tunnel->conn_free(c);
	wgp_cstp_rx_free(&c->rx);
	free(c->sbuf);
	free(c->rbuf);
	free(c->wbuf);
	free(c->context);
	if (c->run->conns[c->idx] == c)
		c->run->conns[c->idx] = NULL;
	free(c);
}

int wgb_conn_abort_setup(struct wgb_conn *c, const char *why)
{
	if (c->stage == WGB_STAGE_HELD)
		return 0;
	wgb_stats_fail(c->run->stats, c->stage, 1, why);
	c->run->stats->in_flight--;
	conn_release(c);
	return 1;
}

void wgb_conn_free(struct wgb_conn *c)
{
	if (c)
		conn_release(c);
}

/* Ends the connection and counts the failure at its stage. */
void wgb_conn_fail(struct wgb_conn *c, int timeout, const char *fmt, ...)
{
	struct wgb_run *run = c->run;
	char why[160];
	va_list ap;
	int was_setup = c->stage != WGB_STAGE_HELD;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	wgb_stats_fail(run->stats, c->stage, timeout, why);
	if (run->cfg.verbose)
		fprintf(stderr, "wolfguard-bench: session %u failed at %s: %s\n", c->idx, wgb_stage_name(c->stage), why);
	conn_release(c);
	if (was_setup) {
		run->stats->in_flight--;
		setup_ended(run);
	}
}

static int want(struct wgb_conn *c, short what)
{
	if (c->io && c->io_what == what)
		return 0;
	if (c->io)
		event_free(c->io);
	c->io = event_new(c->run->base, c->fd, what | EV_PERSIST, on_io, c);
	c->io_what = what;
	return c->io && event_add(c->io, NULL) == 0 ? 0 : -1;
}

static const char *ssl_err(WOLFSSL *ssl, int ret, char *buf, size_t len)
{
	int e = wolfSSL_get_error(ssl, ret);
	char s[WOLFSSL_MAX_ERROR_SZ];

	wolfSSL_ERR_error_string_n((unsigned long)e, s, sizeof(s));
	snprintf(buf, len, "%s (%d)%s%s", s, e, errno ? ": " : "", errno ? strerror(errno) : "");
	return buf;
}

/* Queues bytes for wolfSSL_write (one pending buffer at a time). */
static int queue_write(struct wgb_conn *c, const void *p, size_t n)
{
	if (c->wbuf)
		return -1;
	c->wbuf = malloc(n);
	if (!c->wbuf)
		return -1;
	memcpy(c->wbuf, p, n);
	c->wlen = n;
	return 0;
}

/* 1: all written; 0: waiting for the socket; -1: failed (conn freed). */
static int flush(struct wgb_conn *c)
{
	char e[200];
	int r;

	if (!c->wbuf && c->slen) {
		/* The data frames gathered go as one write. */
		c->wbuf = c->sbuf;
		c->wlen = c->slen;
		c->sbuf = NULL;
		c->slen = 0;
	}
	if (!c->wbuf)
		return 1;
	errno = 0;
	r = wolfSSL_write(c->ssl, c->wbuf, (int)c->wlen);
	if (r == (int)c->wlen) {
		free(c->wbuf);
		c->wbuf = NULL;
		c->wlen = 0;
		if (c->slen)
			return flush(c); /* what was gathered meanwhile */
		if (want(c, EV_READ) < 0) {
			wgb_conn_fail(c, 0, "event_add failed");
			return -1;
		}
		return 1;
	}
	if (wolfSSL_get_error(c->ssl, r) == WOLFSSL_ERROR_WANT_WRITE) {
		if (want(c, EV_READ | EV_WRITE) < 0) {
			wgb_conn_fail(c, 0, "event_add failed");
			return -1;
		}
		return 0;
	}
	if (wolfSSL_get_error(c->ssl, r) == WOLFSSL_ERROR_WANT_READ)
		return 0;
	wgb_conn_fail(c, 0, "TLS write: %s", ssl_err(c->ssl, r, e, sizeof(e)));
	return -1;
}

static void send_frame(struct wgb_conn *c, uint8_t type, const uint8_t *payload, size_t len)
{
	uint8_t f[WGP_CSTP_HDR + WGP_CSTP_MAX_DPD_PAYLOAD];
	size_t n = wgp_cstp_frame(f, sizeof(f), type, payload, len);

	/* A write still pending means the socket is full: the frame is
	 * skipped rather than queued without bound. The write itself happens
	 * from on_io, so a failure never frees the connection under the
	 * frame reader or the timer. */
	if (!n || queue_write(c, f, n) < 0)
		return;
	want(c, EV_READ | EV_WRITE);
}

int wgb_conn_cstp_data(struct wgb_conn *c, const uint8_t *pkt, size_t len)
{
	size_t n = WGP_CSTP_HDR + len;

	if (c->stage != WGB_STAGE_HELD || c->slen + n > SBUF_MAX)
		return 0;
	if (!c->sbuf && !(c->sbuf = malloc(SBUF_MAX)))
		return 0;
	c->slen += wgp_cstp_frame(c->sbuf + c->slen, SBUF_MAX - c->slen, WGP_CSTP_DATA, pkt, len);
	/* Written from on_io (never from here: a failed write frees c). */
	if (!c->wbuf)
		want(c, EV_READ | EV_WRITE);
	return 1;
}

static void on_frame(void *arg, uint8_t type, const uint8_t *payload, size_t len)
{
	struct wgb_conn *c = arg;

	c->run->stats->frames_rx++;
	if (type == WGP_CSTP_DATA && payload) {
		c->run->tunnel->rx(c, payload, len);
		return;
	}
	if (type == WGP_CSTP_DPD_REQ) {
		c->run->stats->dpd_answered++;
		send_frame(c, WGP_CSTP_DPD_RESP, payload, len);
	}
}

static void arm_timer(struct wgb_conn *c, unsigned ms)
{
	struct timeval tv = {ms / 1000, (suseconds_t)(ms % 1000) * 1000};
	evtimer_add(c->timer, &tv);
}

void wgb_conn_held(struct wgb_conn *c)
{
	struct wgb_run *run = c->run;

	c->stage = WGB_STAGE_HELD;
	run->stats->in_flight--;
	wgb_stats_established(run->stats, c->t_start, wgb_now_us());
	/* Spread the first tick over the period, so keepalives arrive evenly
	 * rather than in bursts of everything set up in the same second. */
	evtimer_del(c->timer);
	arm_timer(c, (unsigned)(random() % (c->period_s * 1000u)) + 1);
	setup_ended(run);
}

/* 200 CONNECTED: the session is held from now on (with --traffic over
 * DTLS once the DTLS handshake is done). */
static int tunnel_up(struct wgb_conn *c, const struct wgp_http_resp *r)
{
	struct wgb_run *run = c->run;
	static struct wgp_tunnel_config tp; /* 12 KiB: off the stack */
	size_t rest = c->rlen - r->header_len;
	char e[160];
	struct in_addr a;

	if (wgp_tunnel_config_parse(c->rbuf, r->header_len, &tp, e, sizeof(e)) < 0) {
		wgb_conn_fail(c, 0, "CONNECTED: %s", e);
		return -1;
	}
	if (inet_pton(AF_INET, tp.address, &a) == 1)
		c->tun_addr = a.s_addr;
	c->period_s = run->cfg.data_every_s ? run->cfg.data_every_s
		      : run->cfg.keepalive_s ? run->cfg.keepalive_s
		      : tp.keepalive_s ? tp.keepalive_s : 30;
	c->dtls_port = tp.dtls_port;
	c->mtu = tp.mtu;
	c->app_id_len = tp.app_id_len <= sizeof(c->app_id) ? tp.app_id_len : 0;
	memcpy(c->app_id, tp.app_id, c->app_id_len);
	c->tunnel = 1;
	c->rx.keep_data = run->cfg.traffic; /* the echoes come back as data frames */
	free(c->context);
	c->context = NULL;
	if (run->cfg.traffic && !c->tun_addr) {
		wgb_conn_fail(c, 0, "CONNECTED without an IPv4 address");
		return -1;
	}
	if (run->cfg.traffic && !run->cfg.traffic_cstp)
		c->stage = WGB_STAGE_DTLS;
	else
		wgb_conn_held(c);
	if (rest && wgp_cstp_feed(&c->rx, (uint8_t *)c->rbuf + r->header_len, rest, on_frame, c, e, sizeof(e)) < 0) {
		wgb_conn_fail(c, 0, "%s", e);
		return -1;
	}
	free(c->rbuf);
	c->rbuf = NULL;
	c->rlen = c->rcap = 0;
	if (c->stage == WGB_STAGE_DTLS)
		return run->tunnel->dtls_start(c); /* -1: failed, c is gone */
	return 0;
}

/* A complete HTTP answer during login or CONNECT. 0: go on; -1: conn freed. */
static int on_answer(struct wgb_conn *c)
{
	struct wgb_run *run = c->run;
	struct wgp_http_resp r;
	char e[200], cookie[512], req[REQ_CAP], client_name[32];
	int n, len = 0;

	n = wgp_http_parse(c->rbuf, c->rlen, c->stage == WGB_STAGE_AUTH, &r, e, sizeof(e));
	if (n < 0) {
		wgb_conn_fail(c, 0, "%s", e);
		return -1;
	}
	if (n == 0)
		return 0;
	if (c->stage == WGB_STAGE_TUNNEL) {
		if (r.status != 200) {
			wgb_conn_fail(c, 0, "CONNECT answered \"%.40s\"", c->rbuf);
			return -1;
		}
		return tunnel_up(c, &r);
	}
	if (r.status != 200) {
		wgb_conn_fail(c, 0, "login answered \"%.40s\"", c->rbuf);
		return -1;
	}
	if (wgp_http_set_cookie(c->rbuf, r.header_len, "webvpncontext", cookie, sizeof(cookie)) >= 0)
	{
		free(c->context);
		if (!(c->context = strdup(cookie))) {
			wgb_conn_fail(c, 0, "out of memory");
			return -1;
		}
	}
	switch (wgp_auth_next(&run->cfg.login, &c->ls, c->rbuf + r.header_len, r.body_len, c->context, req,
			      sizeof(req), &len, e, sizeof(e))) {
	case WGP_AUTH_FAIL:
		wgb_conn_fail(c, 0, "%s", e);
		return -1;
	case WGP_AUTH_REPLY:
		break;
	case WGP_AUTH_COMPLETE:
		if (wgp_http_set_cookie(c->rbuf, r.header_len, "webvpn", cookie, sizeof(cookie)) <= 0) {
			wgb_conn_fail(c, 0, "login complete without a webvpn cookie");
			return -1;
		}
		snprintf(client_name, sizeof(client_name), "bench%u", c->idx);
		len = wgp_cstp_connect_request(run->cfg.host, cookie, client_name, run->cfg.offer_dtls, req,
					       sizeof(req));
		if (len < 0) {
			wgb_conn_fail(c, 0, "CONNECT request too large");
			return -1;
		}
		c->stage = WGB_STAGE_TUNNEL;
		break;
	}
	/* The answer is consumed whole: the server speaks only when asked. */
	c->rlen = 0;
	if (queue_write(c, req, (size_t)len) < 0) {
		wgb_conn_fail(c, 0, "out of memory");
		return -1;
	}
	return flush(c) < 0 ? -1 : 0;
}

static int append(struct wgb_conn *c, const uint8_t *p, size_t n)
{
	if (c->rlen + n > c->rcap) {
		size_t cap = c->rcap ? c->rcap : 4096;
		while (cap < c->rlen + n)
			cap *= 2;
		if (cap > RBUF_MAX)
			return -1;
		char *b = realloc(c->rbuf, cap);
		if (!b)
			return -1;
		c->rbuf = b;
		c->rcap = cap;
	}
	memcpy(c->rbuf + c->rlen, p, n);
	c->rlen += n;
	return 0;
}

/* Reads everything wolfSSL has; -1 when the connection is gone. */
static int drain(struct wgb_conn *c)
{
	char e[200];

	for (;;) {
		int r;

		/* During set-up the client speaks only after its request went out. */
		if (c->wbuf && !c->tunnel)
			return 0;
		errno = 0;
		r = wolfSSL_read(c->ssl, scratch, sizeof(scratch));
		if (r > 0) {
			if (c->tunnel) {
				if (wgp_cstp_feed(&c->rx, scratch, (size_t)r, on_frame, c, e, sizeof(e)) < 0) {
					wgb_conn_fail(c, 0, "%s", e);
					return -1;
				}
				continue;
			}
			if (append(c, scratch, (size_t)r) < 0) {
				wgb_conn_fail(c, 0, "HTTP answer larger than %d bytes", RBUF_MAX);
				return -1;
			}
			if (on_answer(c) < 0)
				return -1;
			continue;
		}
		int err = wolfSSL_get_error(c->ssl, r);
		if (err == WOLFSSL_ERROR_WANT_READ)
			return 0;
		if (err == WOLFSSL_ERROR_WANT_WRITE)
			return want(c, EV_READ | EV_WRITE);
		if (err == WOLFSSL_ERROR_ZERO_RETURN || (r == 0 && err == WOLFSSL_ERROR_SYSCALL))
			wgb_conn_fail(c, 0, "server closed the connection");
		else
			wgb_conn_fail(c, 0, "TLS read: %s", ssl_err(c->ssl, r, e, sizeof(e)));
		return -1;
	}
}

static void start_login(struct wgb_conn *c)
{
	char req[REQ_CAP];
	int n = wgp_auth_init_request(&c->run->cfg.login, req, sizeof(req));

	c->stage = WGB_STAGE_AUTH;
	if (n < 0 || queue_write(c, req, (size_t)n) < 0) {
		wgb_conn_fail(c, 0, "init request too large");
		return;
	}
	if (flush(c) >= 0)
		drain(c);
}

static void step_tls(struct wgb_conn *c)
{
	char e[200];
	int r;

	errno = 0;
	r = wolfSSL_connect(c->ssl);
	if (r == WOLFSSL_SUCCESS) {
		if (want(c, EV_READ) < 0)
			wgb_conn_fail(c, 0, "event_add failed");
		else
			start_login(c);
		return;
	}
	switch (wolfSSL_get_error(c->ssl, r)) {
	case WOLFSSL_ERROR_WANT_READ:
		if (want(c, EV_READ) < 0)
			wgb_conn_fail(c, 0, "event_add failed");
		return;
	case WOLFSSL_ERROR_WANT_WRITE:
		if (want(c, EV_WRITE) < 0)
			wgb_conn_fail(c, 0, "event_add failed");
		return;
	default:
		wgb_conn_fail(c, 0, "handshake: %s", ssl_err(c->ssl, r, e, sizeof(e)));
	}
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct wgb_conn *c = arg;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	switch (c->stage) {
	case WGB_STAGE_TCP:
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
			wgb_conn_fail(c, 0, "connect: %s", strerror(soerr ? soerr : errno));
			return;
		}
		c->stage = WGB_STAGE_TLS;
		step_tls(c);
		return;
	case WGB_STAGE_TLS:
		step_tls(c);
		return;
	default:
		if ((what & EV_WRITE) && flush(c) < 0)
			return;
		drain(c);
	}
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct wgb_conn *c = arg;
	struct wgb_run *run = c->run;

	if (c->stage != WGB_STAGE_HELD) {
		wgb_conn_fail(c, 1, "no progress within %u s", run->cfg.conn_timeout_s);
		return;
	}
	if (run->cfg.data_every_s && c->tun_addr) {
		uint8_t pkt[128];
		size_t n = wgp_ipv4_echo(pkt, sizeof(pkt), c->tun_addr, run->cfg.data_dst, (uint16_t)c->idx, c->seq++);
		run->stats->data_tx++;
		send_frame(c, WGP_CSTP_DATA, pkt, n);
	} else {
		run->stats->keepalives_tx++;
		send_frame(c, WGP_CSTP_KEEPALIVE, NULL, 0);
		run->tunnel->keepalive(c);
	}
	arm_timer(c, c->period_s * 1000u);
}

void wgb_conn_start(struct wgb_run *run, unsigned idx)
{
	const struct wgb_config *cfg = &run->cfg;
	struct wgb_conn *c = calloc(1, sizeof(*c));
	struct sockaddr_in src = {.sin_family = AF_INET};
	int one = 1;

	run->stats->attempted++;
	run->stats->in_flight++;
	if (!c) {
		run->stats->in_flight--;
		wgb_stats_fail(run->stats, WGB_STAGE_TCP, 0, "out of memory");
		setup_ended(run);
		return;
	}
	c->run = run;
	c->idx = idx;
	c->stage = WGB_STAGE_TCP;
	c->t_start = wgb_now_us();
	run->conns[idx] = c;
	if (!run->stats->t_first_start_us)
		run->stats->t_first_start_us = c->t_start;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (c->fd < 0) {
		wgb_conn_fail(c, 0, "socket: %s", strerror(errno));
		return;
	}
	/* Many loopback sources, and the port picked at connect() time for
	 * the full 4-tuple: ~28K ports per source instead of per machine. */
	setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	src.sin_addr.s_addr = htonl(cfg->src_base + (cfg->index_base + idx) % cfg->src_count);
	if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
		wgb_conn_fail(c, 0, "bind %s: %s", inet_ntoa(src.sin_addr), strerror(errno));
		return;
	}
	if (connect(c->fd, (const struct sockaddr *)&cfg->server, sizeof(cfg->server)) < 0 && errno != EINPROGRESS) {
		wgb_conn_fail(c, 0, "connect: %s", strerror(errno));
		return;
	}
	c->ssl = wolfSSL_new(run->ctx);
	if (!c->ssl || wolfSSL_set_fd(c->ssl, c->fd) != WOLFSSL_SUCCESS) {
		wgb_conn_fail(c, 0, "wolfSSL_new failed");
		return;
	}
	wolfSSL_set_using_nonblock(c->ssl, 1);
	/* --traffic over DTLS exports the DTLS key from this session (RFC
	 * 5705); wolfSSL drops the secrets after the handshake unless asked. */
	if (cfg->traffic && !cfg->traffic_cstp)
		wolfSSL_KeepArrays(c->ssl);
	c->timer = evtimer_new(run->base, on_timer, c);
	if (!c->timer || want(c, EV_WRITE) < 0) {
		wgb_conn_fail(c, 0, "event_new failed");
		return;
	}
	arm_timer(c, cfg->conn_timeout_s * 1000u);
}
