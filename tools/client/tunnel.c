/* The packet loop (one libevent loop): IP packets from the TUN device go
 * over DTLS when it is up, else as CSTP frames over TLS; what comes back on
 * either goes to the device. A 1 s tick sends keepalives and DPD probes,
 * gives up on a DTLS handshake or a silent DTLS channel (traffic falls back
 * to CSTP, DTLS is tried again later) and on a silent TLS connection. When
 * the TLS connection drops, the session is resumed with the cookie on a new
 * connection (CONNECT again, same TUN device), for --reconnect-timeout. */
#include "client.h"

#include "cstp.h"
#include "dtls.h"
#include "lanes.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PKT_MAX 65536
#define OUT_CAP (1024 * 1024)
#define OUT_HIGH (256 * 1024) /* TUN reads pause above this much queued for TLS */
#define DEFAULT_DPD_S 30
#define DEFAULT_KEEPALIVE_S 30

enum stop {
	RUNNING,
	STOP_LOGOUT,   /* SIGINT/SIGTERM: DISCONNECT, the cookie dies */
	STOP_KEEP,     /* SIGHUP: close, the session stays for a reconnect */
	STOP_DROPPED,  /* the TLS connection failed: reconnect */
	STOP_SERVER,   /* the server ended the session */
	STOP_ERROR,
};

enum dtls_state { DTLS_OFF, DTLS_CONNECTING, DTLS_UP, DTLS_WAIT };

struct tunnel {
	struct wgc *c;
	struct wgc_tls *tls;
	struct event_base *base;
	struct event *ev_tun, *ev_tls, *ev_tls_w, *ev_udp, *ev_tick, *ev_dtls_timer;
	struct wgp_cstp_rx rx;
	uint8_t *out;
	size_t out_len, out_retry;
	int tun_paused;
	enum stop stop;
	time_t cstp_last_rx, cstp_last_tx, cstp_dpd_sent;
	enum dtls_state dstate;
	struct wgc_dtls d;
	struct wgc_lanes *lanes; /* NULL: none granted */
	time_t dtls_started, dtls_last_rx, dtls_last_tx, dtls_retry_at, dtls_dpd_sent;
	unsigned long long tx_cstp, tx_dtls, rx_cstp, rx_dtls, tx_lanes; /* packets */
	unsigned long long dtls_refused; /* packets DTLS would not take (sent over CSTP) */
};

static volatile sig_atomic_t got_signal;
static uint8_t pkt[PKT_MAX + 16];

static void on_signal(int sig)
{
	got_signal = sig;
}

static time_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void stop(struct tunnel *t, enum stop why)
{
	if (t->stop == RUNNING)
		t->stop = why;
	event_base_loopbreak(t->base);
}

/* ---- TLS (CSTP) --------------------------------------------------------- */

static void flush_tls(struct tunnel *t)
{
	while (t->out_len && t->stop == RUNNING) {
		/* One frame per TLS record, as openconnect writes them: ocserv
		 * expects each record to start with a CSTP header. */
		size_t chunk = t->out_retry ? t->out_retry
					    : WGP_CSTP_HDR + ((size_t)t->out[4] << 8 | t->out[5]);
		int r = wolfSSL_write(t->tls->ssl, t->out, (int)chunk);
		if (r > 0) {
			memmove(t->out, t->out + r, t->out_len - (size_t)r);
			t->out_len -= (size_t)r;
			t->out_retry = 0;
			continue;
		}
		int e = wolfSSL_get_error(t->tls->ssl, r);
		if (e == WOLFSSL_ERROR_WANT_WRITE || e == WOLFSSL_ERROR_WANT_READ) {
			/* wolfSSL holds the encrypted record: the same bytes again. */
			t->out_retry = chunk;
			if (e == WOLFSSL_ERROR_WANT_WRITE)
				event_add(t->ev_tls_w, NULL);
			break;
		}
		wgc_log("TLS write failed (%d): connection lost", e);
		stop(t, STOP_DROPPED);
		return;
	}
	if (t->tun_paused && t->out_len < OUT_HIGH / 2) {
		t->tun_paused = 0;
		event_add(t->ev_tun, NULL);
	}
}

static int queue_frame(struct tunnel *t, uint8_t type, const uint8_t *payload, size_t len)
{
	if (t->out_len + WGP_CSTP_HDR + len > OUT_CAP)
		return -1; /* dropped: TCP is backed up that far */
	t->out_len += wgp_cstp_frame(t->out + t->out_len, OUT_CAP - t->out_len, type, payload, len);
	t->cstp_last_tx = now_s();
	if (t->out_len > OUT_HIGH && !t->tun_paused) {
		t->tun_paused = 1;
		event_del(t->ev_tun);
	}
	return 0;
}

static void to_tun(struct tunnel *t, const uint8_t *p, size_t n)
{
	if (n && write(t->c->tun_fd, p, n) < 0 && errno != EAGAIN && t->c->o.verbose)
		wgc_log("TUN write: %s", strerror(errno));
}

static void on_frame(void *arg, uint8_t type, const uint8_t *payload, size_t len)
{
	struct tunnel *t = arg;

	t->cstp_last_rx = now_s();
	t->cstp_dpd_sent = 0;
	switch (type) {
	case WGP_CSTP_DATA:
		if (payload) {
			t->rx_cstp++;
			to_tun(t, payload, len);
		}
		break;
	case WGP_CSTP_DPD_REQ:
		queue_frame(t, WGP_CSTP_DPD_RESP, payload, len);
		break;
	case WGP_CSTP_DISCONNECT:
	case WGP_CSTP_TERMINATE:
		wgc_log("the server ended the session (CSTP %s)", type == WGP_CSTP_DISCONNECT ? "DISCONNECT" : "TERMINATE");
		stop(t, STOP_SERVER);
		break;
	default:
		break;
	}
}

static void on_tls(evutil_socket_t fd, short what, void *arg)
{
	struct tunnel *t = arg;
	char e[160];

	(void)fd;
	if (what & EV_WRITE) {
		flush_tls(t);
		return;
	}
	while (t->stop == RUNNING) {
		int r = wolfSSL_read(t->tls->ssl, pkt, PKT_MAX);
		if (r > 0) {
			if (wgp_cstp_feed(&t->rx, pkt, (size_t)r, on_frame, t, e, sizeof(e)) < 0) {
				wgc_log("CSTP: %s", e);
				stop(t, STOP_DROPPED);
				return;
			}
			continue;
		}
		int err = wolfSSL_get_error(t->tls->ssl, r);
		if (err == WOLFSSL_ERROR_WANT_READ)
			break;
		if (err == WOLFSSL_ERROR_WANT_WRITE) {
			event_add(t->ev_tls_w, NULL);
			break;
		}
		wgc_log("TLS connection lost (%s)", err == WOLFSSL_ERROR_ZERO_RETURN ? "closed by the server"
						     : r == 0 ? "end of stream" : "read error");
		stop(t, STOP_DROPPED);
		return;
	}
	flush_tls(t);
}

/* ---- DTLS ------------------------------------------------------------------ */

static void dtls_down(struct tunnel *t, const char *why, unsigned retry_s)
{
	if (t->ev_udp) {
		event_free(t->ev_udp);
		t->ev_udp = NULL;
	}
	evtimer_del(t->ev_dtls_timer);
	wgc_dtls_free(&t->d);
	if (t->dstate == DTLS_UP)
		wgc_log("DTLS down (%s): traffic goes over CSTP; DTLS again in %u s", why, retry_s);
	else
		wgc_log("DTLS failed (%s): traffic goes over CSTP; DTLS again in %u s", why, retry_s);
	t->dstate = DTLS_WAIT;
	t->dtls_retry_at = now_s() + retry_s;
}

static int dtls_send(struct tunnel *t, uint8_t type, uint8_t *buf_with_room, size_t len)
{
	/* buf_with_room[-1] is ours: the type byte goes in front of the payload. */
	buf_with_room[-1] = type;
	int r = wolfSSL_write(t->d.ssl, buf_with_room - 1, (int)len + 1);
	if (r <= 0) {
		int e = wolfSSL_get_error(t->d.ssl, r);
		if (e == WOLFSSL_ERROR_WANT_WRITE || e == WOLFSSL_ERROR_WANT_READ)
			return 0; /* a datagram lost, as UDP may */
		/* Too large for a datagram, say: the packet takes CSTP; a dead
		 * channel is found by DPD. */
		if (!t->dtls_refused)
			wgc_log("DTLS would not take a %zu-byte record (error %d): such packets go over CSTP", len + 1, e);
		return -1;
	}
	t->dtls_last_tx = now_s();
	return 0;
}

static void dtls_control(struct tunnel *t, uint8_t type, const uint8_t *payload, size_t len)
{
	uint8_t b[1 + WGP_CSTP_MAX_DPD_PAYLOAD];
	if (len > WGP_CSTP_MAX_DPD_PAYLOAD)
		return;
	if (len)
		memcpy(b + 1, payload, len);
	dtls_send(t, type, b + 1, len);
}

static void on_dtls_timer(evutil_socket_t fd, short what, void *arg);

static void dtls_step(struct tunnel *t)
{
	char e[200];
	int r = wgc_dtls_handshake(&t->d, e, sizeof(e));

	if (r < 0) {
		dtls_down(t, e, t->c->o.dtls_attempt_period_s);
		return;
	}
	if (r == 0) {
		struct timeval tv;
		unsigned ms = wgc_dtls_timeout_ms(&t->d);
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
		evtimer_add(t->ev_dtls_timer, &tv);
		return;
	}
	evtimer_del(t->ev_dtls_timer);
	t->dstate = DTLS_UP;
	t->dtls_last_rx = t->dtls_last_tx = now_s();
	t->dtls_dpd_sent = 0;
	int max = wgc_dtls_fit(&t->d, t->c->server_addr.ss_family == AF_INET ? 1500 - 28 : 1500 - 48);
	wgc_log("DTLS up (%s, %s, records up to %d bytes): data goes over UDP", wolfSSL_get_version(t->d.ssl),
		wolfSSL_get_cipher(t->d.ssl), max);
}

static void on_dtls_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tunnel *t = arg;
	(void)fd;
	(void)what;
	if (t->dstate != DTLS_CONNECTING)
		return;
	if (wgc_dtls_retransmit(&t->d) < 0) {
		dtls_down(t, "retransmission failed", t->c->o.dtls_attempt_period_s);
		return;
	}
	dtls_step(t);
}

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	struct tunnel *t = arg;

	(void)fd;
	(void)what;
	if (t->dstate == DTLS_CONNECTING) {
		dtls_step(t);
		if (t->dstate != DTLS_UP)
			return;
	}
	while (t->dstate == DTLS_UP) {
		int r = wolfSSL_read(t->d.ssl, pkt, PKT_MAX);
		if (r <= 0) {
			int e = wolfSSL_get_error(t->d.ssl, r);
			if (e != WOLFSSL_ERROR_WANT_READ && e != WOLFSSL_ERROR_WANT_WRITE)
				dtls_down(t, e == WOLFSSL_ERROR_ZERO_RETURN ? "closed by the server" : "read error",
					  t->c->o.dtls_attempt_period_s);
			return;
		}
		t->dtls_last_rx = now_s();
		t->dtls_dpd_sent = 0;
		switch (pkt[0]) {
		case WGP_CSTP_DATA:
			t->rx_dtls++;
			to_tun(t, pkt + 1, (size_t)r - 1);
			break;
		case WGP_CSTP_DPD_REQ:
			dtls_control(t, WGP_CSTP_DPD_RESP, pkt + 1, (size_t)r - 1);
			break;
		default:
			break;
		}
	}
}

static void dtls_start(struct tunnel *t)
{
	struct wgc *c = t->c;
	struct sockaddr_storage sa = c->server_addr;
	char e[200];

	if (sa.ss_family == AF_INET)
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)c->tc.dtls_port);
	else
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)c->tc.dtls_port);
	t->dstate = DTLS_CONNECTING;
	t->dtls_started = now_s();
	/* The largest datagram: the base MTU (1500, as CONNECT says) less the
	 * IP and UDP headers. The TUN MTU (X-CSTP-MTU) leaves room for the
	 * DTLS record's own overhead within it. */
	if (wgc_dtls_new(&t->d, t->tls->ssl, (struct sockaddr *)&sa, c->server_addr_len, c->tc.app_id,
			 c->tc.app_id_len, sa.ss_family == AF_INET ? 1500 - 28 : 1500 - 48, e, sizeof(e)) < 0) {
		dtls_down(t, e, c->o.dtls_attempt_period_s);
		return;
	}
	t->ev_udp = event_new(t->base, t->d.fd, EV_READ | EV_PERSIST, on_udp, t);
	if (!t->ev_udp || event_add(t->ev_udp, NULL) < 0) {
		dtls_down(t, "event_add failed", c->o.dtls_attempt_period_s);
		return;
	}
	wgc_debug(c, "DTLS handshake with %s port %u", c->gateway, c->tc.dtls_port);
	dtls_step(t);
}

/* ---- TUN ----------------------------------------------------------------- */

static void on_tun(evutil_socket_t fd, short what, void *arg)
{
	struct tunnel *t = arg;
	(void)what;

	/* A batch per wake-up, so the TLS and UDP sides get their turn. */
	for (int i = 0; i < 64 && t->stop == RUNNING && !t->tun_paused; i++) {
		ssize_t n = read(fd, pkt + 16, PKT_MAX - 16);
		if (n <= 0)
			break;
		if (t->lanes && wgc_lanes_send(t->lanes, pkt + 16, (size_t)n)) {
			t->tx_lanes++;
			continue;
		}
		if (t->dstate == DTLS_UP) {
			if (dtls_send(t, WGP_CSTP_DATA, pkt + 16, (size_t)n) == 0) {
				t->tx_dtls++;
				continue;
			}
			t->dtls_refused++;
		}
		t->tx_cstp++;
		queue_frame(t, WGP_CSTP_DATA, pkt + 16, (size_t)n);
	}
	flush_tls(t);
}

/* ---- liveness -------------------------------------------------------------- */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct tunnel *t = arg;
	struct wgc *c = t->c;
	time_t now = now_s();
	unsigned dpd = c->tc.dpd_s ? c->tc.dpd_s : DEFAULT_DPD_S;
	unsigned ka = c->tc.keepalive_s ? c->tc.keepalive_s : DEFAULT_KEEPALIVE_S;

	(void)fd;
	(void)what;
	if (got_signal) {
		int s = got_signal;
		got_signal = 0;
		if (s == SIGHUP)
			stop(t, STOP_KEEP);
		else if (s == SIGUSR2)
			stop(t, STOP_DROPPED);
		else
			stop(t, STOP_LOGOUT);
		return;
	}
	/* CSTP: keepalive when idle, DPD when silent, reconnect when dead. */
	if (now - t->cstp_last_tx >= (time_t)ka)
		queue_frame(t, WGP_CSTP_KEEPALIVE, NULL, 0);
	if (now - t->cstp_last_rx >= (time_t)dpd && !t->cstp_dpd_sent) {
		queue_frame(t, WGP_CSTP_DPD_REQ, NULL, 0);
		t->cstp_dpd_sent = now;
	}
	if (t->cstp_dpd_sent && now - t->cstp_last_rx >= 2 * (time_t)dpd && now - t->cstp_dpd_sent >= (time_t)dpd) {
		wgc_log("no answer on TLS for %ld s (DPD %u s): connection dead", (long)(now - t->cstp_last_rx), dpd);
		stop(t, STOP_DROPPED);
		return;
	}
	flush_tls(t);
	/* DTLS */
	switch (t->dstate) {
	case DTLS_CONNECTING:
		if (now - t->dtls_started >= (time_t)c->o.dtls_handshake_timeout_s)
			dtls_down(t, "no handshake answer", c->o.dtls_attempt_period_s);
		break;
	case DTLS_WAIT:
		if (now >= t->dtls_retry_at)
			dtls_start(t);
		break;
	case DTLS_UP: {
		unsigned ddpd = c->tc.dtls_dpd_s ? c->tc.dtls_dpd_s : dpd;
		unsigned dka = c->tc.dtls_keepalive_s ? c->tc.dtls_keepalive_s : ka;
		uint8_t b[2];
		if (now - t->dtls_last_tx >= (time_t)dka)
			dtls_send(t, WGP_CSTP_KEEPALIVE, b + 1, 0);
		if (t->dstate == DTLS_UP && now - t->dtls_last_rx >= (time_t)ddpd && !t->dtls_dpd_sent) {
			dtls_send(t, WGP_CSTP_DPD_REQ, b + 1, 0);
			t->dtls_dpd_sent = now;
		}
		if (t->dstate == DTLS_UP && t->dtls_dpd_sent && now - t->dtls_last_rx >= 2 * (time_t)ddpd)
			dtls_down(t, "no answer to DPD", c->o.dtls_attempt_period_s);
		break;
	}
	case DTLS_OFF:
		break;
	}
}

/* ---- set-up and the reconnect loop -------------------------------------- */

static int loop_once(struct tunnel *t, const uint8_t *extra, size_t extra_len)
{
	struct wgc *c = t->c;
	struct timeval one = {1, 0};
	char e[160];
	time_t now = now_s();

	t->stop = RUNNING;
	t->out_len = t->out_retry = 0;
	t->tun_paused = 0;
	t->cstp_last_rx = t->cstp_last_tx = now;
	t->cstp_dpd_sent = 0;
	memset(&t->rx, 0, sizeof(t->rx));
	t->rx.keep_data = 1;
	t->d.fd = -1;
	t->dstate = DTLS_OFF;
	fcntl(t->tls->fd, F_SETFL, fcntl(t->tls->fd, F_GETFL) | O_NONBLOCK);
	wolfSSL_set_using_nonblock(t->tls->ssl, 1);
	t->ev_tls = event_new(t->base, t->tls->fd, EV_READ | EV_PERSIST, on_tls, t);
	t->ev_tls_w = event_new(t->base, t->tls->fd, EV_WRITE, on_tls, t);
	t->ev_tun = event_new(t->base, c->tun_fd, EV_READ | EV_PERSIST, on_tun, t);
	t->ev_tick = event_new(t->base, -1, EV_PERSIST, on_tick, t);
	t->ev_dtls_timer = evtimer_new(t->base, on_dtls_timer, t);
	if (!t->ev_tls || !t->ev_tls_w || !t->ev_tun || !t->ev_tick || !t->ev_dtls_timer ||
	    event_add(t->ev_tls, NULL) < 0 || event_add(t->ev_tun, NULL) < 0 || event_add(t->ev_tick, &one) < 0) {
		wgc_log("libevent set-up failed");
		t->stop = STOP_ERROR;
	} else if (extra_len && wgp_cstp_feed(&t->rx, extra, extra_len, on_frame, t, e, sizeof(e)) < 0) {
		wgc_log("CSTP: %s", e);
		t->stop = STOP_DROPPED;
	} else {
		if (!c->o.no_dtls && c->tc.dtls_port && c->tc.app_id_len && strstr(c->tc.dtls_cipher, "PSK-NEGOTIATE"))
			dtls_start(t);
		else if (!c->o.no_dtls)
			wgc_log("the server offers no PSK-NEGOTIATE DTLS: CSTP only");
		if (c->o.lanes && !c->tc.lanes)
			wgc_log("the server granted no lanes (not wolfguard, or transport-lanes is off): without lanes");
		t->lanes = wgc_lanes_start(t->base, t->tls->ssl, c);
		/* Records wolfSSL read with the CONNECT answer are not seen by libevent. */
		on_tls(t->tls->fd, EV_READ, t);
		if (t->stop == RUNNING)
			event_base_dispatch(t->base);
	}
	if (t->stop == STOP_LOGOUT) {
		/* openconnect's logout: a DISCONNECT frame, reason byte 0xb0 and
		 * text; the server ends the session and the cookie with it. */
		static const uint8_t bye[] = "\xb0" "Client received SIGINT";
		int i;
		wolfSSL_set_using_nonblock(t->tls->ssl, 0);
		fcntl(t->tls->fd, F_SETFL, fcntl(t->tls->fd, F_GETFL) & ~O_NONBLOCK);
		t->out_len = t->out_retry = 0;
		queue_frame(t, WGP_CSTP_DISCONNECT, bye, sizeof(bye) - 1);
		for (i = 0; i < 3 && wolfSSL_write(t->tls->ssl, t->out, (int)t->out_len) <= 0; i++)
			;
		wolfSSL_shutdown(t->tls->ssl);
	}
	if (t->lanes) {
		char sum[1024];
		wgc_lanes_summary(t->lanes, sum, sizeof(sum));
		wgc_log("%llu packets sent over lanes; %s", t->tx_lanes, sum);
		wgc_lanes_free(t->lanes, 1);
		t->lanes = NULL;
	}
	if (t->dstate != DTLS_OFF && t->dstate != DTLS_WAIT)
		wgc_dtls_free(&t->d);
	if (t->ev_udp)
		event_free(t->ev_udp);
	t->ev_udp = NULL;
	event_free(t->ev_tls);
	event_free(t->ev_tls_w);
	event_free(t->ev_tun);
	event_free(t->ev_tick);
	event_free(t->ev_dtls_timer);
	wgp_cstp_rx_free(&t->rx);
	wgc_log("packets: %llu sent over CSTP (%llu of them refused by DTLS), %llu over DTLS; %llu received over "
		"CSTP, %llu over DTLS",
		t->tx_cstp, t->dtls_refused, t->tx_dtls, t->rx_cstp, t->rx_dtls);
	return (int)t->stop;
}

/* Resumes the session with the cookie; 0 with *t->tls open, -1 to give up. */
static int reconnect(struct tunnel *t)
{
	struct wgc *c = t->c;
	time_t deadline = now_s() + c->o.reconnect_timeout_s;
	unsigned backoff = 1;
	static uint8_t extra[4096];

	wgc_script_run(c, "attempt-reconnect");
	while (!got_signal) {
		size_t extra_len;
		int fatal, refused;
		wgc_log("reconnecting to %s with the session cookie", c->gateway);
		if (wgc_tls_open(c, t->tls, &fatal) == 0) {
			if (wgc_connect_tunnel(c, t->tls, extra, sizeof(extra), &extra_len, &refused) == 0) {
				wgc_log("reconnected: address %s", c->tc.address[0] ? c->tc.address : c->tc.address6);
				wgc_script_run(c, "reconnect");
				return loop_once(t, extra, extra_len);
			}
			wgc_tls_close(t->tls);
			if (refused) {
				wgc_log("the server refused the cookie: the session is gone");
				return STOP_ERROR;
			}
		} else if (fatal) {
			return STOP_ERROR;
		}
		if (now_s() + (time_t)backoff > deadline) {
			wgc_log("could not reconnect within %u s (--reconnect-timeout)", c->o.reconnect_timeout_s);
			return STOP_ERROR;
		}
		sleep(backoff);
		if (backoff < 8)
			backoff *= 2;
	}
	return got_signal == SIGHUP ? STOP_KEEP : STOP_LOGOUT;
}

int wgc_tunnel_run(struct wgc *c, struct wgc_tls *tls, const uint8_t *extra, size_t extra_len)
{
	struct tunnel *t = calloc(1, sizeof(*t));
	struct sigaction sa;
	int rc;

	if (!t || !(t->out = malloc(OUT_CAP)) || !(t->base = event_base_new())) {
		wgc_log("out of memory");
		if (t)
			free(t->out);
		free(t);
		return 1;
	}
	t->c = c;
	t->tls = tls;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = loop_once(t, extra, extra_len);
	while (rc == STOP_DROPPED) {
		wgc_tls_close(tls);
		rc = reconnect(t);
	}
	wgc_tls_close(tls);
	event_base_free(t->base);
	free(t->out);
	free(t);
	return rc == STOP_LOGOUT || rc == STOP_KEEP ? 0 : 1;
}
