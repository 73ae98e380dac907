/* --traffic, the client process's side: after CONNECTED each session runs
 * the PSK-NEGOTIATE DTLS handshake as openconnect does (tools/client's
 * dtls.c), or stays on CSTP with --cstp. Once the parent sets shared->go,
 * every held session sends IPv4/UDP packets (traffic_wire.h) from its
 * tunnel address to the sink behind the server, paced (--rate) or in a
 * closed loop of --window packets in flight (an echo also answers the older
 * packets still missing: lost; late echoes refill nothing); the sink
 * echoes them. Then
 * the process drains the last echoes, asks the sink for its per-session
 * counts (control port, retried), and flags the parent. One timer (tick)
 * drives the phases; packets are sent from it and, in the closed loop,
 * from each echo. */
#include "clock.h"
#include "conn.h"
#include "traffic_wire.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <event2/event.h>
#include <arpa/inet.h>
#include <errno.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

enum { PH_WAIT, PH_SEND, PH_DRAIN, PH_REPORT, PH_DONE };

#define WINDOW_STALL_US 200000 /* no echo for this long: the window's packets count as lost */
#define REPORT_EVERY_US 250000
#define REPORT_ROUNDS 20
#define RATE_BURST 64 /* at most this many paced packets per session per tick */

static uint8_t pktbuf[1 + 2048];
static uint8_t rdbuf[2048 + 64];

static unsigned gidx(const struct wgb_conn *c)
{
	return c->run->cfg.index_base + c->idx;
}

static struct wgb_sess_traffic *st_of(struct wgb_conn *c)
{
	return &c->run->shared->sess[gidx(c)];
}

static uint16_t sport_of(const struct wgb_conn *c)
{
	return (uint16_t)(10000 + gidx(c) % 50000);
}

/* ---- DTLS set-up ------------------------------------------------------- */

static void on_dtls_io(evutil_socket_t fd, short what, void *arg);

static void on_dtls_timer(evutil_socket_t fd, short what, void *arg);

/* 0: going on or done; -1: failed (c freed). */
static int dtls_step(struct wgb_conn *c)
{
	char e[200];
	int r = wgc_dtls_handshake(&c->d, e, sizeof(e));

	if (r < 0) {
		wgb_conn_fail(c, 0, "%s", e);
		return -1;
	}
	if (r == 0) {
		unsigned ms = wgc_dtls_timeout_ms(&c->d);
		struct timeval tv = {ms / 1000, (suseconds_t)(ms % 1000) * 1000};
		evtimer_add(c->dtls_timer, &tv);
		return 0;
	}
	evtimer_del(c->dtls_timer);
	c->dtls_up = 1;
	wgc_dtls_fit(&c->d, 1500 - 28);
	wgb_conn_held(c);
	return 0;
}

static void on_dtls_timer(evutil_socket_t fd, short what, void *arg)
{
	struct wgb_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->dtls_up)
		return;
	if (wgc_dtls_retransmit(&c->d) < 0) {
		wgb_conn_fail(c, 0, "DTLS retransmission failed");
		return;
	}
	dtls_step(c);
}

/* wgc_dtls_new's socket lets the kernel pick the source address; the
 * bench runs sessions from many (--src), and a server with several
 * workers steers UDP by source address to the worker holding the TCP
 * session: the DTLS socket is replaced, before the first handshake
 * byte, by one bound to the TCP connection's address. */
static int same_source(struct wgb_conn *c)
{
	struct sockaddr_in local, peer = c->run->cfg.server;
	socklen_t ll = sizeof(local);
	int fd;

	if (getsockname(c->fd, (struct sockaddr *)&local, &ll) < 0)
		return -1;
	local.sin_port = 0;
	peer.sin_port = htons((uint16_t)c->dtls_port);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0 ||
	    connect(fd, (struct sockaddr *)&peer, sizeof(peer)) < 0 || wolfSSL_set_fd(c->d.ssl, fd) != WOLFSSL_SUCCESS) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	wolfSSL_dtls_set_using_nonblock(c->d.ssl, 1);
	wgc_udp_send_use(c->d.ssl, &c->d.out, fd); /* wolfSSL_set_fd reset the send context */
	close(c->d.fd);
	c->d.fd = fd;
	return 0;
}

static int tunnel_dtls_start(struct wgb_conn *c)
{
	struct sockaddr_in sa = c->run->cfg.server;
	char e[200];

	if (!c->dtls_port) {
		wgb_conn_fail(c, 0, "the server offered no DTLS (X-DTLS-Port); --cstp runs over TLS");
		return -1;
	}
	sa.sin_port = htons((uint16_t)c->dtls_port);
	if (wgc_dtls_new(&c->d, c->ssl, (const struct sockaddr *)&sa, sizeof(sa), c->app_id, c->app_id_len, 0, e,
			 sizeof(e)) < 0) {
		wgb_conn_fail(c, 0, "DTLS: %s", e);
		return -1;
	}
	wolfSSL_FreeArrays(c->ssl); /* the key is exported: the TLS secrets can go */
	if (same_source(c) < 0) {
		wgb_conn_fail(c, 0, "DTLS socket from the TCP source address: %s", strerror(errno));
		return -1;
	}
	c->dtls_io = event_new(c->run->base, c->d.fd, EV_READ | EV_PERSIST, on_dtls_io, c);
	c->dtls_timer = evtimer_new(c->run->base, on_dtls_timer, c);
	if (!c->dtls_io || !c->dtls_timer || event_add(c->dtls_io, NULL) < 0) {
		wgb_conn_fail(c, 0, "event_new failed");
		return -1;
	}
	return dtls_step(c);
}

static void tunnel_conn_free(struct wgb_conn *c)
{
	if (c->dtls_io)
		event_free(c->dtls_io);
	if (c->dtls_timer)
		event_free(c->dtls_timer);
	c->dtls_io = c->dtls_timer = NULL;
	if (c->d.ctx) /* made by wgc_dtls_new (which cleans up after itself on failure) */
		wgc_dtls_free(&c->d);
}

/* ---- sending --------------------------------------------------------------- */

/* One record or frame with a CSTP type; 1 sent, 0 not (counted). */
static int dtls_send(struct wgb_conn *c, uint8_t type, uint8_t *rec, size_t len)
{
	int r;
	uint64_t dropped = c->d.out.dropped;

	rec[0] = type;
	r = wolfSSL_write(c->d.ssl, rec, (int)len + 1);
	if (r == (int)len + 1 && c->d.out.dropped != dropped) {
		c->run->stats->traffic_send_busy++; /* the socket was full: dropped (client/udp_send.h) */
		return 0;
	}
	if (r == (int)len + 1)
		return 1;
	if (wolfSSL_get_error(c->d.ssl, r) == WOLFSSL_ERROR_WANT_WRITE)
		c->run->stats->traffic_send_busy++;
	else
		c->run->stats->traffic_send_err++;
	return 0;
}

static int send_packet(struct wgb_conn *c, const struct wgb_tw_msg *m, uint16_t dport, size_t size)
{
	const struct wgb_config *cfg = &c->run->cfg;
	size_t n = wgb_tw_ip_packet(pktbuf + 1, sizeof(pktbuf) - 1, size, c->tun_addr, sport_of(c),
				    cfg->sink.sin_addr.s_addr, dport, m);

	if (!n)
		return 0;
	if (c->dtls_up)
		return dtls_send(c, WGP_CSTP_DATA, pktbuf, n);
	if (wgb_conn_cstp_data(c, pktbuf + 1, n))
		return 1;
	c->run->stats->traffic_send_busy++;
	return 0;
}

static int send_data(struct wgb_conn *c)
{
	const struct wgb_config *cfg = &c->run->cfg;
	struct wgb_sess_traffic *st = st_of(c);
	struct wgb_tw_msg m = {.run = cfg->run_id, .session = gidx(c), .kind = WGB_TW_DATA, .seq = c->sent};

	if (cfg->packets && c->sent >= cfg->packets)
		return 0;
	if (!send_packet(c, &m, ntohs(cfg->sink.sin_port), cfg->size))
		return 0;
	c->sent++;
	c->inflight++;
	st->tx_pkts++;
	st->tx_bytes += cfg->size;
	return 1;
}

/* The closed loop: the window refilled. */
static void pump(struct wgb_conn *c)
{
	while (c->inflight < c->run->cfg.window && send_data(c))
		;
}

static void send_report_request(struct wgb_conn *c)
{
	const struct wgb_config *cfg = &c->run->cfg;
	struct wgb_tw_msg m = {.run = cfg->run_id, .session = gidx(c), .kind = WGB_TW_REPORT_REQ};

	send_packet(c, &m, (uint16_t)(ntohs(cfg->sink.sin_port) + 1), WGB_TW_MIN_PACKET);
}

static void tunnel_keepalive(struct wgb_conn *c)
{
	if (c->dtls_up)
		dtls_send(c, WGP_CSTP_KEEPALIVE, pktbuf, 0);
}

/* ---- receiving ------------------------------------------------------------- */

static void tunnel_rx(struct wgb_conn *c, const uint8_t *pkt, size_t len)
{
	struct wgb_run *run = c->run;
	struct wgb_tw_msg m;
	uint16_t sport;
	size_t ip_len;
	struct wgb_sess_traffic *st;

	if (!run->cfg.traffic || wgb_tw_parse_ip(pkt, len, &m, &sport, &ip_len) < 0 || m.run != run->cfg.run_id ||
	    m.session != gidx(c)) {
		run->stats->traffic_foreign++;
		return;
	}
	st = st_of(c);
	switch (m.kind) {
	case WGB_TW_DATA:
		st->rx_pkts++;
		st->rx_bytes += ip_len;
		c->last_rx_us = wgb_now_us();
		/* The path keeps a session's order, so an echo answers every
		 * older packet: those still missing are lost, and the window
		 * refills at once instead of shrinking until it times out. */
		if (m.seq < c->acked || m.seq >= c->sent)
			break; /* late: given up already */
		c->acked = m.seq + 1;
		c->inflight = c->sent - c->acked;
		if (run->phase == PH_SEND && !run->cfg.rate_pps)
			pump(c);
		break;
	case WGB_TW_REPORT:
		st->sink_rx_pkts = m.rx_pkts;
		st->sink_rx_bytes = m.rx_bytes;
		st->sink_tx_pkts = m.tx_pkts;
		st->sink_tx_bytes = m.tx_bytes;
		st->reported = 1;
		break;
	default:
		run->stats->traffic_foreign++;
	}
}

static void on_dtls_io(evutil_socket_t fd, short what, void *arg)
{
	struct wgb_conn *c = arg;

	(void)fd;
	(void)what;
	if (!c->dtls_up) {
		dtls_step(c);
		return;
	}
	/* A bounded batch per wake-up: one busy session does not starve the rest. */
	for (int i = 0; i < 64; i++) {
		int r = wolfSSL_read(c->d.ssl, rdbuf, sizeof(rdbuf));
		if (r <= 0) {
			if (wolfSSL_get_error(c->d.ssl, r) != WOLFSSL_ERROR_WANT_READ)
				c->run->stats->traffic_send_err++; /* a bad record is dropped, as a client would */
			return;
		}
		if (rdbuf[0] == WGP_CSTP_DATA)
			tunnel_rx(c, rdbuf + 1, (size_t)r - 1);
		else if (rdbuf[0] == WGP_CSTP_DPD_REQ) {
			c->run->stats->dpd_answered++;
			dtls_send(c, WGP_CSTP_DPD_RESP, rdbuf, (size_t)r - 1);
		}
	}
}

/* ---- phases ------------------------------------------------------------------ */

static int all_sent(struct wgb_run *run)
{
	if (!run->cfg.packets)
		return 0;
	for (unsigned i = 0; i < run->cfg.sessions; i++) {
		struct wgb_conn *c = run->conns[i];
		if (c && c->stage == WGB_STAGE_HELD && c->sent < run->cfg.packets)
			return 0;
	}
	return 1;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct wgb_run *run = arg;
	const struct wgb_config *cfg = &run->cfg;
	uint64_t now = wgb_now_us(), el;
	int left = 0;

	(void)fd;
	(void)what;
	switch (run->phase) {
	case PH_WAIT:
		if (!run->shared->go)
			return;
		run->phase = PH_SEND;
		run->t_go_us = run->t_phase_us = now;
		for (unsigned i = 0; i < cfg->sessions; i++) {
			struct wgb_conn *c = run->conns[i];
			if (!c || c->stage != WGB_STAGE_HELD)
				continue;
			st_of(c)->held = 1;
			c->last_rx_us = now;
			if (!cfg->rate_pps)
				pump(c);
		}
		return;
	case PH_SEND:
		el = now - run->t_go_us;
		if (el >= (uint64_t)cfg->traffic_s * 1000000u || all_sent(run)) {
			run->stats->traffic_send_us = el;
			run->phase = PH_DRAIN;
			run->t_phase_us = now;
			return;
		}
		for (unsigned i = 0; i < cfg->sessions; i++) {
			struct wgb_conn *c = run->conns[i];
			if (!c || c->stage != WGB_STAGE_HELD)
				continue;
			if (cfg->rate_pps) {
				uint64_t due = (uint64_t)((double)cfg->rate_pps * (double)el / 1e6);
				for (unsigned k = 0; c->sent < due && k < RATE_BURST; k++)
					if (!send_data(c))
						break;
				continue;
			}
			if (c->inflight && now - c->last_rx_us > WINDOW_STALL_US) {
				c->inflight = 0;
				c->acked = c->sent;
				c->last_rx_us = now;
				run->stats->traffic_window_resets++;
			}
			pump(c);
		}
		return;
	case PH_DRAIN:
		if (now - run->t_phase_us < (uint64_t)cfg->drain_ms * 1000u)
			return;
		run->stats->traffic_drained = 1;
		run->phase = PH_REPORT;
		run->report_round = 0;
		run->t_phase_us = 0;
		return;
	case PH_REPORT:
		if (now - run->t_phase_us < REPORT_EVERY_US)
			return;
		run->t_phase_us = now;
		for (unsigned i = 0; i < cfg->sessions; i++) {
			struct wgb_conn *c = run->conns[i];
			if (!c || c->stage != WGB_STAGE_HELD || st_of(c)->reported)
				continue;
			left++;
			send_report_request(c);
		}
		if (!left || ++run->report_round > REPORT_ROUNDS) {
			run->phase = PH_DONE;
			run->stats->traffic_done = 1;
		}
		return;
	default:
		return;
	}
}

const struct wgb_tunnel_ops wgb_traffic_tunnel = {
	.dtls_start = tunnel_dtls_start,
	.rx = tunnel_rx,
	.keepalive = tunnel_keepalive,
	.conn_free = tunnel_conn_free,
};

int wgb_traffic_init(struct wgb_run *run)
{
	/* Paced: a fine tick (the burst per tick stays small); the closed
	 * loop is clocked by the echoes and needs the tick only for stalls
	 * and phases. */
	struct timeval tv = {0, run->cfg.rate_pps ? 1000 : 10000};

	run->phase = PH_WAIT;
	run->tick = event_new(run->base, -1, EV_PERSIST, on_tick, run);
	return run->tick && event_add(run->tick, &tv) == 0 ? 0 : -1;
}

void wgb_traffic_fini(struct wgb_run *run)
{
	if (run->tick)
		event_free(run->tick);
	run->tick = NULL;
}
