/* The client's lanes (see lanes.h and docs/lanes.md). */
#include "lanes.h"

#include "client.h"
#include "lane_msg.h"
#include "lane_probes.h"
#include "lane_rto.h"
#include "lane_sched.h"
#include "udp_send.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define LANE_SUITE "TLS13-AES128-GCM-SHA256"
#define HANDSHAKE_TIMEOUT_US 10000000ull /* docs/lanes.md: handshake-timeout-ms 10000 */
#define REOPEN_US 3000000ull             /* a lane whose handshake failed is tried again */
#define MEASURE_US 500000ull             /* weights from at least this long (docs/lanes.md 6.3) */

enum lane_state { LANE_CLOSED, LANE_HANDSHAKE, LANE_OPEN };

struct lane {
	struct wgc_lanes *set;
	unsigned k;
	enum lane_state state;
	int fd;
	WOLFSSL *ssl;
	struct event *ev;
	uint8_t psk[WG_LANE_PSK_LEN];
	char identity[WG_LANE_IDENTITY_MAX];
	uint64_t hs_started, hs_next_timeout, reopen_at;
	uint64_t hs_flight;     /* when our last handshake flight left */
	int hs_retransmitted;   /* then the handshake measures no round trip (Karn) */
	/* liveness */
	int alive;
	struct wg_lane_probes probes; /* judged as the server does (lane_probes.h) */
	uint64_t rtt_us;
	struct wg_lane_rto rto; /* the PROBE deadline, adaptive (lane_rto.h) */
	struct wgc_udp_send out; /* a full socket drops the record (udp_send.h) */
	/* counters (IP bytes of DATA) */
	uint64_t tx_bytes, rx_bytes, tx_packets, rx_packets, peer_rx;
	uint64_t meas_at, meas_tx, meas_peer_rx;
	unsigned left_rotation;
};

struct wgc_lanes {
	const struct wgc *c;
	WOLFSSL_CTX *ctx;
	struct event_base *base;
	struct event *tick;
	unsigned n;
	unsigned mtu;
	uint64_t probe_us;
	uint32_t seed;
	struct wg_sched sched;
	struct lane lane[WG_LANES_MAX];
	uint64_t last_tick;
	uint64_t tick_us;
};

static uint8_t buf[65536 + 64];

int wgc_lanes_available(void)
{
	return 1;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static unsigned int lane_psk(WOLFSSL *ssl, const char *hint, char *id, unsigned int id_max, unsigned char *key,
			     unsigned int key_max, const char **suite)
{
	struct lane *ln = wolfSSL_get_psk_callback_ctx(ssl);

	(void)hint;
	if (!ln || key_max < WG_LANE_PSK_LEN)
		return 0;
	snprintf(id, id_max, "%s", ln->identity);
	memcpy(key, ln->psk, WG_LANE_PSK_LEN);
	*suite = LANE_SUITE;
	return WG_LANE_PSK_LEN;
}

static void set_alive(struct lane *ln, int alive)
{
	if (ln->alive == alive)
		return;
	ln->alive = alive;
	wg_sched_set_alive(&ln->set->sched, ln->k, alive);
	if (!alive)
		ln->left_rotation++;
	wgc_log("lane %u %s the rotation", ln->k, alive ? "joined" : "left");
}

static void lane_close(struct lane *ln, const char *why)
{
	if (ln->state == LANE_CLOSED)
		return;
	set_alive(ln, 0);
	if (ln->ev)
		event_free(ln->ev);
	if (ln->ssl)
		wolfSSL_free(ln->ssl);
	if (ln->fd >= 0)
		close(ln->fd);
	ln->ev = NULL;
	ln->ssl = NULL;
	ln->fd = -1;
	ln->state = LANE_CLOSED;
	ln->reopen_at = now_us() + REOPEN_US;
	wgc_log("lane %u closed (%s); again in %llu s", ln->k, why, (unsigned long long)(REOPEN_US / 1000000u));
}

static int lane_write(struct lane *ln, const uint8_t *msg, size_t len)
{
	int r = wolfSSL_write(ln->ssl, msg, (int)len);
	if (r == (int)len)
		return 0;
	return -1; /* a datagram lost; liveness is the probes' business */
}

static void send_probe(struct lane *ln, uint8_t type, uint32_t seq, uint64_t stamp)
{
	uint8_t m[WG_LANE_PROBE_LEN];
	wg_lane_probe_write(m, type, seq, stamp, ln->rx_bytes);
	lane_write(ln, m, sizeof(m));
}

static void on_probe_ack(struct lane *ln, const struct wg_lane_msg *m)
{
	uint64_t now = now_us();
	struct wg_lane_probe_answer a;
	uint64_t sent, tx_then;

	if (!wg_lane_probes_answer(&ln->probes, m->seq, &a))
		return; /* not a PROBE of ours we remember, or older than one answered */
	sent = a.sent_us;
	tx_then = a.tx_bytes;
	set_alive(ln, 1);
	if (now >= sent) {
		ln->rtt_us = ln->rtt_us ? (ln->rtt_us * 7 + (now - sent)) / 8 : now - sent;
		wg_lane_rto_sample(&ln->rto, now - sent);
	}
	/* The peer's count is as of our PROBE's arrival, so it is compared
	 * with what had been sent when the PROBE left, not with what is in
	 * flight now (that would make a fast lane look lossy). */
	if (m->rx_bytes < ln->peer_rx)
		return;
	ln->peer_rx = m->rx_bytes;
	if (now - ln->meas_at >= MEASURE_US && tx_then >= ln->meas_tx) {
		wg_sched_measure(&ln->set->sched, ln->k, tx_then - ln->meas_tx, ln->peer_rx - ln->meas_peer_rx,
				 now - ln->meas_at);
		ln->meas_at = now;
		ln->meas_tx = tx_then;
		ln->meas_peer_rx = ln->peer_rx;
	}
}

static void probe(struct lane *ln, uint64_t now)
{
	uint32_t seq = wg_lane_probes_send(&ln->probes, now, ln->tx_bytes);

	send_probe(ln, WG_LANE_MSG_PROBE, seq, now);
}

static void lane_up(struct lane *ln)
{
	struct wgc_lanes *l = ln->set;
	/* The largest datagram less IP and UDP headers; wolfSSL's budget for
	 * record overhead is cautious, so the MTU is raised until a packet of
	 * the lanes' MTU (and its type byte) fits. */
	unsigned dgram = l->c->server_addr.ss_family == AF_INET ? 1500 - 28 : 1500 - 48;
	int max;

	wolfSSL_dtls_set_mtu(ln->ssl, (unsigned short)dgram);
	max = wolfSSL_GetMaxOutputSize(ln->ssl);
	if (max > 0 && (unsigned)max < l->mtu + 1)
		wolfSSL_dtls_set_mtu(ln->ssl, (unsigned short)(dgram + (l->mtu + 1 - (unsigned)max)));
	ln->state = LANE_OPEN;
	/* The handshake's last round trip (our flight to the server's
	 * answer) seeds the PROBE deadline (lane_rto.h). */
	wg_lane_rto_init(&ln->rto, l->c->tc.lanes_deadline_ms);
	if (!ln->hs_retransmitted && ln->hs_flight)
		wg_lane_rto_handshake(&ln->rto, now_us() - ln->hs_flight);
	ln->meas_at = now_us();
	ln->meas_tx = ln->tx_bytes;
	ln->meas_peer_rx = ln->peer_rx;
	wg_lane_probes_reset(&ln->probes); /* answers to the old link's PROBEs do not count */
	wgc_log("lane %u up (%s, %s) to port %u%s%s", ln->k, wolfSSL_get_version(ln->ssl), wolfSSL_get_cipher(ln->ssl),
		l->c->tc.lanes_ports[ln->k], ln->k < l->c->o.n_lane_bind ? " from " : "",
		ln->k < l->c->o.n_lane_bind ? l->c->o.lane_bind[ln->k] : "");
	/* The server sends a PROBE at once; ours goes out now too. */
	probe(ln, now_us());
}

static void handshake_step(struct lane *ln)
{
	int r = wolfSSL_connect(ln->ssl);
	char e[WOLFSSL_MAX_ERROR_SZ];

	if (r == WOLFSSL_SUCCESS) {
		lane_up(ln);
		return;
	}
	int err = wolfSSL_get_error(ln->ssl, r);
	if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) {
		int t = wolfSSL_dtls_get_current_timeout(ln->ssl);
		ln->hs_flight = now_us();
		ln->hs_next_timeout = ln->hs_flight + (uint64_t)(t > 0 ? t : 1) * 1000000u;
		return;
	}
	wolfSSL_ERR_error_string_n((unsigned long)err, e, sizeof(e));
	char why[160];
	snprintf(why, sizeof(why), "handshake refused: %s", e);
	lane_close(ln, why);
}

static void on_lane_io(evutil_socket_t fd, short what, void *arg)
{
	struct lane *ln = arg;
	struct wgc_lanes *l = ln->set;

	(void)fd;
	(void)what;
	if (ln->state == LANE_HANDSHAKE) {
		handshake_step(ln);
		if (ln->state != LANE_OPEN)
			return;
	}
	while (ln->state == LANE_OPEN) {
		struct wg_lane_msg m;
		int r = wolfSSL_read(ln->ssl, buf, sizeof(buf));
		if (r <= 0) {
			int e = wolfSSL_get_error(ln->ssl, r);
			if (e != WOLFSSL_ERROR_WANT_READ && e != WOLFSSL_ERROR_WANT_WRITE)
				lane_close(ln, e == WOLFSSL_ERROR_ZERO_RETURN ? "closed by the server" : "read error");
			return;
		}
		if (wg_lane_msg_parse(buf, (size_t)r, l->mtu, &m) < 0)
			continue;
		switch (m.type) {
		case WG_LANE_MSG_DATA:
			ln->rx_bytes += m.len;
			ln->rx_packets++;
			if (write(l->c->tun_fd, m.packet, m.len) < 0 && errno != EAGAIN)
				wgc_debug(l->c, "TUN write: %s", strerror(errno));
			break;
		case WG_LANE_MSG_PROBE:
			send_probe(ln, WG_LANE_MSG_PROBE_ACK, m.seq, m.stamp);
			break;
		case WG_LANE_MSG_PROBE_ACK:
			on_probe_ack(ln, &m);
			break;
		case WG_LANE_MSG_CLOSE:
			lane_close(ln, "the server closed it");
			return;
		default:
			break;
		}
	}
}

static void lane_open(struct lane *ln)
{
	struct wgc_lanes *l = ln->set;
	const struct wgc *c = l->c;
	struct sockaddr_storage sa = c->server_addr;
	uint16_t port = (uint16_t)c->tc.lanes_ports[ln->k];

	if (sa.ss_family == AF_INET)
		((struct sockaddr_in *)&sa)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&sa)->sin6_port = htons(port);
	ln->fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ln->fd < 0) {
		wgc_log("lane %u: socket: %s", ln->k, strerror(errno));
		goto fail;
	}
	if (ln->k < c->o.n_lane_bind) {
		const char *dev = c->o.lane_bind[ln->k];
		if (setsockopt(ln->fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev)) < 0) {
			wgc_log("lane %u: cannot bind to interface %s: %s", ln->k, dev, strerror(errno));
			goto fail;
		}
	}
	if (connect(ln->fd, (struct sockaddr *)&sa, c->server_addr_len) < 0) {
		wgc_log("lane %u: connect to port %u: %s", ln->k, port, strerror(errno));
		goto fail;
	}
	if (!(ln->ssl = wolfSSL_new(l->ctx)) || wolfSSL_set_fd(ln->ssl, ln->fd) != WOLFSSL_SUCCESS ||
	    wolfSSL_dtls_set_peer(ln->ssl, &sa, c->server_addr_len) != WOLFSSL_SUCCESS) {
		wgc_log("lane %u: wolfSSL set-up failed", ln->k);
		goto fail;
	}
	wgc_udp_send_use(ln->ssl, &ln->out, ln->fd);
	wolfSSL_set_psk_callback_ctx(ln->ssl, ln);
	wolfSSL_dtls_cid_use(ln->ssl);
	wolfSSL_dtls_set_using_nonblock(ln->ssl, 1);
	ln->ev = event_new(l->base, ln->fd, EV_READ | EV_PERSIST, on_lane_io, ln);
	if (!ln->ev || event_add(ln->ev, NULL) < 0)
		goto fail;
	ln->state = LANE_HANDSHAKE;
	ln->hs_started = now_us();
	ln->hs_flight = 0;
	ln->hs_retransmitted = 0;
	handshake_step(ln);
	return;
fail:
	ln->state = LANE_HANDSHAKE; /* so that lane_close tidies up */
	lane_close(ln, "set-up failed");
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct wgc_lanes *l = arg;
	uint64_t now = now_us();
	const int judge = !l->last_tick || now - l->last_tick <= 2 * l->tick_us;

	(void)fd;
	(void)what;
	l->last_tick = now;
	for (unsigned k = 0; k < l->n; k++) {
		struct lane *ln = &l->lane[k];
		switch (ln->state) {
		case LANE_CLOSED:
			if (now >= ln->reopen_at)
				lane_open(ln);
			break;
		case LANE_HANDSHAKE:
			if (now - ln->hs_started > HANDSHAKE_TIMEOUT_US) {
				lane_close(ln, "no handshake answer");
			} else if (now >= ln->hs_next_timeout) {
				ln->hs_retransmitted = 1;
				if (wolfSSL_dtls_got_timeout(ln->ssl) != WOLFSSL_SUCCESS &&
				    wolfSSL_get_error(ln->ssl, 0) != WOLFSSL_ERROR_WANT_READ) {
					/* the retransmission itself failed: handshake_step decides */
				}
				handshake_step(ln);
			}
			break;
		case LANE_OPEN:
			/* Answers that wait unread are taken first: a starved
			 * process must not judge its lanes by its own delay. */
			on_lane_io(ln->fd, EV_READ, ln);
			if (ln->state != LANE_OPEN)
				break;
			/* The oldest unanswered PROBE past its deadline takes the
			 * lane out, unless this tick itself comes late (the
			 * process was not running: as the server, lane_set.c). */
			if (judge && ln->alive && ln->probes.unanswered_since_us &&
			    now - ln->probes.unanswered_since_us >= wg_lane_rto_deadline_us(&ln->rto))
				set_alive(ln, 0);
			if (now - ln->probes.last_sent_us >= l->probe_us)
				probe(ln, now);
			break;
		}
	}
}

struct wgc_lanes *wgc_lanes_start(struct event_base *base, WOLFSSL *tls, const struct wgc *c)
{
	struct wgc_lanes *l;
	struct timeval tv;
	unsigned tick_ms;

	if (!c->tc.lanes)
		return NULL;
	if (!(l = calloc(1, sizeof(*l))))
		return NULL;
	l->c = c;
	l->base = base;
	l->n = c->tc.lanes;
	l->mtu = c->tc.lanes_mtu;
	l->probe_us = (uint64_t)c->tc.lanes_probe_ms * 1000u;
	if (getrandom(&l->seed, sizeof(l->seed), 0) != sizeof(l->seed))
		l->seed = (uint32_t)now_us();
	wg_sched_init(&l->sched, l->n);
	if (!(l->ctx = wolfSSL_CTX_new(wolfDTLSv1_3_client_method())) ||
	    wolfSSL_CTX_set_cipher_list(l->ctx, LANE_SUITE) != WOLFSSL_SUCCESS) {
		wgc_log("lanes: no DTLS 1.3 with %s in this wolfSSL", LANE_SUITE);
		goto fail;
	}
	wolfSSL_CTX_set_psk_client_tls13_callback(l->ctx, lane_psk);
	for (unsigned k = 0; k < l->n; k++) {
		struct lane *ln = &l->lane[k];
		uint8_t ctx2[2] = {(uint8_t)(k >> 8), (uint8_t)k};
		ln->set = l;
		ln->k = k;
		ln->fd = -1;
		wg_lane_rto_init(&ln->rto, c->tc.lanes_deadline_ms);
		wg_lane_identity_format(c->tc.lanes_session, k, ln->identity);
		if (wolfSSL_export_keying_material(tls, ln->psk, sizeof(ln->psk), WG_LANE_EXPORTER_LABEL,
						   strlen(WG_LANE_EXPORTER_LABEL), ctx2, sizeof(ctx2), 1) != WOLFSSL_SUCCESS) {
			wgc_log("lanes: TLS exporter failed");
			goto fail;
		}
	}
	tick_ms = c->tc.lanes_probe_ms / 4;
	if (tick_ms < 10)
		tick_ms = 10;
	if (tick_ms > 100)
		tick_ms = 100;
	tv.tv_sec = 0;
	tv.tv_usec = (suseconds_t)tick_ms * 1000;
	l->tick_us = (uint64_t)tick_ms * 1000;
	if (!(l->tick = event_new(base, -1, EV_PERSIST, on_tick, l)) || event_add(l->tick, &tv) < 0)
		goto fail;
	wgc_log("lanes: %u granted (MTU %u, probe every %u ms, deadline %u ms)", l->n, l->mtu, c->tc.lanes_probe_ms,
		c->tc.lanes_deadline_ms);
	for (unsigned k = 0; k < l->n; k++)
		lane_open(&l->lane[k]);
	return l;
fail:
	wgc_lanes_free(l, 0);
	return NULL;
}

int wgc_lanes_send(struct wgc_lanes *l, const uint8_t *pkt, size_t len)
{
	int k;
	struct lane *ln;

	if (len > l->mtu || len + 1 > sizeof(buf))
		return 0;
	k = wg_sched_pick(&l->sched, wg_flow_hash(pkt, len, l->seed));
	if (k < 0 || (unsigned)k >= l->n || (ln = &l->lane[k])->state != LANE_OPEN)
		return 0;
	buf[0] = WG_LANE_MSG_DATA;
	memcpy(buf + 1, pkt, len);
	lane_write(ln, buf, len + 1);
	ln->tx_bytes += len;
	ln->tx_packets++;
	return 1;
}

void wgc_lanes_summary(const struct wgc_lanes *l, char *out, size_t outlen)
{
	size_t n = 0;
	int k;

	out[0] = '\0';
	for (unsigned i = 0; i < l->n && n < outlen; i++) {
		const struct lane *ln = &l->lane[i];
		k = snprintf(out + n, outlen - n, "%slane %u: %llu packets sent, %llu received, left the rotation %u times",
			     i ? "; " : "", i, (unsigned long long)ln->tx_packets, (unsigned long long)ln->rx_packets,
			     ln->left_rotation);
		if (k < 0)
			break;
		n += (size_t)k;
	}
}

void wgc_lanes_free(struct wgc_lanes *l, int with_close)
{
	if (!l)
		return;
	for (unsigned k = 0; k < l->n; k++) {
		struct lane *ln = &l->lane[k];
		if (with_close && ln->state == LANE_OPEN) {
			uint8_t m = WG_LANE_MSG_CLOSE;
			lane_write(ln, &m, 1);
		}
		if (ln->ev)
			event_free(ln->ev);
		if (ln->ssl)
			wolfSSL_free(ln->ssl);
		if (ln->fd >= 0)
			close(ln->fd);
		memset(ln->psk, 0, sizeof(ln->psk));
	}
	if (l->tick)
		event_free(l->tick);
	if (l->ctx)
		wolfSSL_CTX_free(l->ctx);
	free(l);
}
