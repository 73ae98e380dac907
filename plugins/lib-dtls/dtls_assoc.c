/* The UDP socket and DTLS associations both DTLS servers share (see
 * dtls_assoc.h). */
#include "dtls_assoc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "dtls_log.h"
#include "udp_batch.h"
#include "udp_gro.h"

/* A received message's control data: the train's segment size first, then
 * the local address (both families for an IPv4 peer of a dual-stack
 * socket). */
#define RX_CMSG_SPACE (WG_UDP_GRO_CMSG_SPACE + CMSG_SPACE(sizeof(struct in_pktinfo)) + WG_UDP_LOCAL_CMSG_SPACE)

static pthread_once_t wolfssl_once = PTHREAD_ONCE_INIT;

static void wolfssl_init_once(void)
{
	wolfSSL_Init();
}

static long long ms_until(const struct timespec *t)
{
	struct timespec n;

	clock_gettime(CLOCK_MONOTONIC, &n);
	return (long long)(t->tv_sec - n.tv_sec) * 1000 + (t->tv_nsec - n.tv_nsec) / 1000000;
}

/* ---- wolfSSL's I/O --------------------------------------------------------- */

/* Hands wolfSSL the datagram at hand, whole, once. */
static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct wg_dtls_assoc *a = ctx;
	size_t n;

	(void)ssl;
	if (!a->in)
		return WOLFSSL_CBIO_ERR_WANT_READ;
	n = a->in_len < (size_t)sz ? a->in_len : (size_t)sz; /* a cut record fails its MAC */
	memcpy(buf, a->in, n);
	a->in = NULL;
	a->in_len = 0;
	return (int)n;
}

static bool is_hello_verify_request(const char *buf, int sz)
{
	const uint8_t *p = (const uint8_t *)buf;

	return sz > 13 && p[0] == 22 && p[3] == 0 && p[4] == 0 && p[13] == 3;
}

/* One datagram from the association's local address. */
static ssize_t send_one(int fd, struct wg_dtls_assoc *a, char *buf, size_t len)
{
	union {
		char buf[WG_UDP_LOCAL_CMSG_SPACE];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr m = {.msg_name = &a->peer, .msg_namelen = a->peer_len, .msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (a->local.family == 0)
		return sendto(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&a->peer, a->peer_len);
	memset(&cm, 0, sizeof(cm));
	m.msg_control = cm.buf;
	m.msg_controllen = wg_udp_local_cmsg(&a->local, (struct cmsghdr *)cm.buf);
	n = sendmsg(fd, &m, MSG_DONTWAIT);
	if (n < 0 && (errno == EINVAL || errno == EADDRNOTAVAIL)) {
		/* The address is gone from this host: the route's source,
		 * until the peer's next datagram says where it sends now. */
		char text[INET6_ADDRSTRLEN];
		wg_udp_local_format(&a->local, text, sizeof(text));
		dtls_log(WG_LOG_INFO, "DTLS %s: cannot send from %s (%s): from the route's source now", a->peer_text,
			 text, strerror(errno));
		memset(&a->local, 0, sizeof(a->local));
		n = sendto(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&a->peer, a->peer_len);
	}
	return n;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct wg_dtls_assoc *a = ctx;
	struct wg_dtls_sock *s = a->sock;
	ssize_t n;

	(void)ssl;
	if (!a->up && is_hello_verify_request(buf, sz))
		a->sent_hvr = true;
	/* Data of an up association during a burst waits for the burst's end
	 * (it carries its own copy of the address, so the association may go
	 * meanwhile). Handshake records never wait: they are driven by timers
	 * and the peer, outside any burst. */
	if (a->up && s->batching) {
		wg_udp_batch_add(s->batch, (struct sockaddr *)&a->peer, a->peer_len, &a->local, buf, (size_t)sz);
		return sz;
	}
	n = send_one(s->fd, a, buf, (size_t)sz);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != EINTR)
		return WOLFSSL_CBIO_ERR_GENERAL;
	/* A full socket buffer drops the datagram, as the network may; DTLS
	 * retransmits handshakes and the tunnel tolerates loss. */
	return sz;
}

void wg_dtls_ctx_set_io(WOLFSSL_CTX *ctx)
{
	wolfSSL_CTX_SetIORecv(ctx, io_recv);
	wolfSSL_CTX_SetIOSend(ctx, io_send);
}

WOLFSSL_CTX *wg_dtls_ctx_finish(WOLFSSL_CTX *ctx, const char *suites)
{
	if (!ctx)
		return NULL;
	if (wolfSSL_CTX_set_cipher_list(ctx, suites) != WOLFSSL_SUCCESS) {
		dtls_log(WG_LOG_ERROR, "DTLS: this wolfSSL has none of the PSK suites %s", suites);
		wolfSSL_CTX_free(ctx);
		return NULL;
	}
	/* Every association is a full PSK handshake: nothing to resume. */
	wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
	wg_dtls_ctx_set_io(ctx);
	return ctx;
}

/* ---- the socket -------------------------------------------------------------- */

/* One received message: a datagram, or with GRO a train of them from one
 * peer to one local address, each handed on as its own datagram. */
static void on_message(struct wg_dtls_sock *s, struct mmsghdr *mm)
{
	struct msghdr *m = &mm->msg_hdr;
	const struct sockaddr *sa = m->msg_name;
	struct wg_udp_local local;
	struct wg_udp_train t;
	size_t seg = s->gro ? wg_udp_gro_size(m) : 0, n, count = 0;
	uint8_t *d;

	if (mm->msg_len == 0)
		return; /* empty: nothing DTLS can use */
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return;
	switch (wg_udp_train_start(&t, m->msg_iov->iov_base, m->msg_iov->iov_len, mm->msg_len, seg,
				   (m->msg_flags & MSG_TRUNC) != 0)) {
	case WG_UDP_TRAIN_WHOLE:
		break;
	case WG_UDP_TRAIN_CUT: /* the whole ones before the cut still count */
		s->counts.refused++;
		break;
	case WG_UDP_TRAIN_BAD:
		s->counts.refused++;
		return;
	}
	if (t.seg > s->datagram_max) { /* larger than DTLS reads: dropped, as before GRO */
		s->counts.refused++;
		return;
	}
	if (s->pktinfo)
		wg_udp_local_from_msg(m, &local);
	else
		memset(&local, 0, sizeof(local));
	while (wg_udp_train_next(&t, &d, &n)) {
		s->ops.on_datagram(s->arg, d, n, sa, m->msg_namelen, &local);
		count++;
	}
	if (count > 1) {
		s->counts.trains++;
		s->counts.train_datagrams += count;
	}
}

/* Up to `burst` messages with one recvmmsg (with GRO each may be a train).
 * The server hears of the burst's start and end, so what the datagrams
 * carry can be written to the TUN device together (merged per TCP flow). */
static void on_readable(int fd, void *arg)
{
	struct wg_dtls_sock *s = arg;
	int n;

	for (unsigned i = 0; i < s->burst; i++) {
		s->rx_iov[i].iov_base = s->rx + i * s->slot;
		s->rx_iov[i].iov_len = s->slot;
		memset(&s->rx_msgs[i].msg_hdr, 0, sizeof(s->rx_msgs[i].msg_hdr));
		s->rx_msgs[i].msg_hdr.msg_name = &s->rx_addr[i];
		s->rx_msgs[i].msg_hdr.msg_namelen = sizeof(s->rx_addr[i]);
		s->rx_msgs[i].msg_hdr.msg_iov = &s->rx_iov[i];
		s->rx_msgs[i].msg_hdr.msg_iovlen = 1;
		if (s->pktinfo || s->gro) {
			s->rx_msgs[i].msg_hdr.msg_control = s->rx_cmsg + i * RX_CMSG_SPACE;
			s->rx_msgs[i].msg_hdr.msg_controllen = RX_CMSG_SPACE;
		}
	}
	n = recvmmsg(fd, s->rx_msgs, s->burst, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			dtls_log(WG_LOG_DEBUG, "DTLS: recvmmsg: %s", strerror(errno));
		return;
	}
	if (s->ops.on_burst)
		s->ops.on_burst(s->arg, true);
	for (int i = 0; i < n; i++)
		on_message(s, &s->rx_msgs[i]);
	if (s->ops.on_burst)
		s->ops.on_burst(s->arg, false);
}

bool wg_dtls_sock_set_gro(struct wg_dtls_sock *s, bool on)
{
	uint8_t *rx;

	if (s->rx && on == s->gro)
		return true;
	if (!on) {
		/* Off before the slots shrink, so no train meets a small slot. */
		(void)wg_udp_gro_set(s->fd, false);
		s->gro = false;
		if (!(rx = malloc(s->burst * s->datagram_max)))
			return s->rx != NULL; /* the large slots serve as well */
		free(s->rx);
		s->rx = rx;
		s->slot = s->datagram_max;
		return true;
	}
	if (!(rx = malloc(s->burst * (size_t)WG_UDP_GRO_TRAIN_MAX))) {
		dtls_log(WG_LOG_WARN, "DTLS: no memory for UDP GRO's receive slots: GRO off");
		return false;
	}
	if (!wg_udp_gro_set(s->fd, true)) {
		dtls_log(WG_LOG_INFO, "DTLS: no UDP GRO on this kernel (%s): datagrams come one by one", strerror(errno));
		free(rx);
		return false;
	}
	free(s->rx);
	s->rx = rx;
	s->slot = WG_UDP_GRO_TRAIN_MAX;
	s->gro = true;
	return true;
}

int wg_dtls_sock_init(struct wg_dtls_sock *s, const struct wg_host *host, int fd, const struct wg_dtls_sock_size *size,
		      const struct wg_dtls_sock_ops *ops, void *arg)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	if (!host || !host->timer_add || !host->fd_watch || fd < 0 || !ops || !ops->on_datagram || !ops->release) {
		dtls_log(WG_LOG_ERROR, "DTLS: bad arguments for the UDP socket");
		wg_dtls_sock_fini(s);
		return -1;
	}
	pthread_once(&wolfssl_once, wolfssl_init_once);
	s->host = host;
	s->ops = *ops;
	s->arg = arg;
	s->burst = size->burst;
	s->datagram_max = size->datagram_max;
	s->plain_max = size->plain_max;
	s->rx_msgs = calloc(s->burst, sizeof(*s->rx_msgs));
	s->rx_iov = calloc(s->burst, sizeof(*s->rx_iov));
	s->rx_addr = calloc(s->burst, sizeof(*s->rx_addr));
	/* Aligned for cmsghdr: malloc's alignment, and a multiple of it apart. */
	s->rx_cmsg = malloc(s->burst * RX_CMSG_SPACE);
	s->plain = malloc(s->plain_max);
	s->batch = malloc(sizeof(*s->batch));
	if (!s->rx_msgs || !s->rx_iov || !s->rx_addr || !s->rx_cmsg || !s->plain || !s->batch ||
	    !(wg_dtls_sock_set_gro(s, true) || wg_dtls_sock_set_gro(s, false))) {
		dtls_log(WG_LOG_ERROR, "DTLS: cannot set up the UDP socket: out of memory");
		wg_dtls_sock_fini(s);
		return -1;
	}
	wg_udp_batch_init(s->batch, fd, true, NULL);
	s->pktinfo = wg_udp_local_enable(fd);
	s->watch = host->fd_watch(fd, on_readable, s);
	if (!s->watch) {
		dtls_log(WG_LOG_ERROR, "DTLS: cannot watch the UDP socket");
		wg_dtls_sock_fini(s);
		return -1;
	}
	return 0;
}

void wg_dtls_sock_fini(struct wg_dtls_sock *s)
{
	if (s->watch)
		s->host->fd_unwatch(s->watch);
	s->watch = NULL;
	free(s->rx_msgs);
	free(s->rx_iov);
	free(s->rx_addr);
	free(s->rx);
	free(s->rx_cmsg);
	free(s->plain);
	free(s->batch);
	s->rx_msgs = NULL;
	s->rx_iov = NULL;
	s->rx_addr = NULL;
	s->rx = s->rx_cmsg = s->plain = NULL;
	s->batch = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

int wg_dtls_sock_port(const struct wg_dtls_sock *s)
{
	return wg_udp_socket_port(s->fd);
}

void wg_dtls_sock_batch_begin(struct wg_dtls_sock *s)
{
	if (s->batch)
		s->batching = true;
}

void wg_dtls_sock_batch_end(struct wg_dtls_sock *s)
{
	if (!s->batching)
		return;
	s->batching = false;
	if (!wg_udp_batch_empty(s->batch))
		wg_udp_batch_flush(s->batch);
}

uint64_t wg_dtls_sock_dropped(const struct wg_dtls_sock *s)
{
	return s->batch ? s->batch->dropped : 0;
}

/* ---- associations ------------------------------------------------------------ */

void wg_dtls_assoc_init(struct wg_dtls_assoc *a, struct wg_dtls_sock *s, const struct sockaddr *sa, socklen_t salen)
{
	a->sock = s;
	wg_peer_key_make(sa, &a->key);
	memcpy(&a->peer, sa, salen);
	a->peer_len = salen;
	wg_peer_format(sa, a->peer_text, sizeof(a->peer_text));
}

void wg_dtls_assoc_set_local(struct wg_dtls_assoc *a, const struct wg_udp_local *local)
{
	if (local)
		a->local = *local;
	else
		memset(&a->local, 0, sizeof(a->local));
}

void wg_dtls_assoc_feed(struct wg_dtls_assoc *a, const uint8_t *d, size_t n, const struct wg_udp_local *local)
{
	a->in = d;
	a->in_len = n;
	if (local)
		a->in_local = *local;
	else
		memset(&a->in_local, 0, sizeof(a->in_local));
}

/* A record of the datagram at hand authenticated: answers leave from
 * where it arrived (the client sends to another address of ours now). */
static void follow_local(struct wg_dtls_assoc *a)
{
	char was[INET6_ADDRSTRLEN], now[INET6_ADDRSTRLEN];

	if (a->in_local.family == 0 || wg_udp_local_equal(&a->local, &a->in_local))
		return;
	wg_udp_local_format(&a->local, was, sizeof(was));
	wg_udp_local_format(&a->in_local, now, sizeof(now));
	dtls_log(WG_LOG_INFO, "DTLS %s: the peer sends to %s now (was %s): answers leave from there", a->peer_text, now,
		 was);
	a->local = a->in_local;
}

int wg_dtls_assoc_ssl(struct wg_dtls_assoc *a, WOLFSSL_CTX *ctx)
{
	struct sockaddr_in6 cookie_peer;

	wg_peer_cookie_addr(&a->key, &cookie_peer);
	if (!(a->ssl = wolfSSL_new(ctx)) ||
	    wolfSSL_dtls_set_peer(a->ssl, &cookie_peer, sizeof(cookie_peer)) != WOLFSSL_SUCCESS)
		return -1;
	wolfSSL_SetIOReadCtx(a->ssl, a);
	wolfSSL_SetIOWriteCtx(a->ssl, a);
	wolfSSL_dtls_set_using_nonblock(a->ssl, 1);
#ifdef WOLFSSL_DTLS_MTU
	/* A 1500-byte path less IP and UDP headers; without this option
	 * wolfSSL caps datagrams at 1400 bytes. */
	wolfSSL_dtls_set_mtu(a->ssl, a->peer.ss_family == AF_INET ? 1500 - 20 - 8 : 1500 - 40 - 8);
#endif
	return 0;
}

void wg_dtls_assoc_timer_stop(struct wg_dtls_assoc *a)
{
	if (a->timer) {
		a->sock->host->timer_del(a->timer);
		a->timer = NULL;
	}
}

void wg_dtls_assoc_release(struct wg_dtls_assoc *a)
{
	wg_dtls_assoc_timer_stop(a);
	if (a->ssl)
		wolfSSL_free(a->ssl);
	a->ssl = NULL;
}

void wg_dtls_assoc_set_deadline(struct wg_dtls_assoc *a, unsigned timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, &a->deadline);
	a->deadline.tv_sec += timeout_ms / 1000;
	a->deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (a->deadline.tv_nsec >= 1000000000) {
		a->deadline.tv_sec++;
		a->deadline.tv_nsec -= 1000000000;
	}
}

static void handshake_timer(void *arg);

/* The next retransmission, or the deadline if that comes first. */
static void arm_handshake_timer(struct wg_dtls_assoc *a)
{
	long long left = ms_until(&a->deadline);
	long long rtx = (long long)wolfSSL_dtls_get_current_timeout(a->ssl) * 1000;
	long long ms;

#ifdef WOLFSSL_DTLS13
	if (wolfSSL_dtls13_use_quick_timeout(a->ssl)) /* DTLS 1.3 asks for a quicker resend */
		rtx /= 4;
#endif
	ms = rtx > 0 && rtx < left ? rtx : left;
	wg_dtls_assoc_timer_stop(a);
	a->timer = a->sock->host->timer_add((uint32_t)(ms < 1 ? 1 : ms), 0, handshake_timer, a);
}

static void handshake_timer(void *arg)
{
	struct wg_dtls_assoc *a = arg;

	a->timer = NULL; /* a fired one-shot timer is the host's to free */
	if (ms_until(&a->deadline) <= 0)
		a->sock->ops.on_handshake_lost(a, "handshake timed out");
	else if (wolfSSL_dtls_got_timeout(a->ssl) != WOLFSSL_SUCCESS)
		a->sock->ops.on_handshake_lost(a, "handshake retransmission failed");
	else
		arm_handshake_timer(a);
}

int wg_dtls_assoc_accept(struct wg_dtls_assoc *a, char *why, size_t whylen)
{
	int r = wolfSSL_accept(a->ssl), e;

	if (r == WOLFSSL_SUCCESS) {
		wg_dtls_assoc_timer_stop(a);
		return 1;
	}
	e = wolfSSL_get_error(a->ssl, r);
	if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE) {
		arm_handshake_timer(a);
		return 0;
	}
	wolfSSL_ERR_error_string_n((unsigned long)e, why, whylen);
	return -1;
}

void wg_dtls_assoc_call_begin(struct wg_dtls_assoc *a)
{
	a->busy++;
}

bool wg_dtls_assoc_call_end(struct wg_dtls_assoc *a)
{
	if (--a->busy > 0)
		return !a->dead;
	if (a->dead) {
		a->sock->ops.release(a);
		return false;
	}
	return true;
}

void wg_dtls_assoc_kill(struct wg_dtls_assoc *a)
{
	a->dead = true;
	wg_dtls_assoc_timer_stop(a);
	if (a->busy == 0)
		a->sock->ops.release(a);
}

enum wg_dtls_read wg_dtls_assoc_read(struct wg_dtls_assoc *a, bool single,
				     bool (*on_record)(struct wg_dtls_assoc *a, uint8_t *rec, size_t len),
				     char *why, size_t whylen)
{
	struct wg_dtls_sock *s = a->sock;

	for (;;) {
		int n = wolfSSL_read(a->ssl, s->plain, (int)s->plain_max);
		if (n > 0) {
			follow_local(a);
			if (!on_record(a, s->plain, (size_t)n))
				return WG_DTLS_READ_GONE;
			if (single)
				return WG_DTLS_READ_IDLE;
			continue;
		}
		int e = wolfSSL_get_error(a->ssl, n);
		if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE)
			return WG_DTLS_READ_IDLE;
		if (e == WOLFSSL_ERROR_ZERO_RETURN)
			return WG_DTLS_READ_CLOSED;
		wolfSSL_ERR_error_string_n((unsigned long)e, why, whylen);
		return WG_DTLS_READ_FATAL;
	}
}

int wg_dtls_assoc_write(struct wg_dtls_assoc *a, const uint8_t *rec, size_t len)
{
	return wolfSSL_write(a->ssl, rec, (int)len) == (int)len ? 0 : -1;
}

size_t wg_dtls_assoc_max_record(const struct wg_dtls_assoc *a)
{
	int max = a->ssl ? wolfSSL_GetMaxOutputSize(a->ssl) : 0;

	return max > 0 ? (size_t)max : 0;
}
