/* The lanes' UDP socket and its DTLS 1.3 associations (see lane_link.h). */
#include "lane_link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "dtls_log.h"
#include "hashmap.h"
#include "lane_datagram.h"
#include "udp_batch.h"

#define RECV_BURST 32
#define DATAGRAM_MAX 2048
#define LANE_SUITE "TLS13-AES128-GCM-SHA256"

struct peer_key {
	uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	uint16_t port;
};

struct wg_lane_link {
	struct wg_lane_server *srv;
	void *owner;
	unsigned lane;
	uint8_t sid[WG_LANE_SID_LEN];
	uint8_t psk[WG_LANE_PSK_LEN];
	char identity[WG_LANE_IDENTITY_MAX];
	WOLFSSL *ssl;
	struct peer_key key;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	char peer_text[64];
	uint8_t cid[WG_LANE_CID_LEN];
	bool up, in_addr_map, in_cid_map, half_open;
	bool dead;
	unsigned busy;                   /* callbacks running on it */
	struct wg_timer *timer;          /* handshake retransmit or deadline */
	struct timespec deadline;
	const uint8_t *in;               /* the datagram wolfSSL reads next */
	size_t in_len;
	/* A record with our CID from a new address: moves the link there once
	 * one of its records authenticates. */
	bool move_pending;
	struct sockaddr_storage move_to;
	socklen_t move_len;
};

struct wg_lane_server {
	const struct wg_host *host;
	struct wg_lane_server_cb cb;
	void *arg;
	int fd, port;
	struct wg_watch *watch;
	WOLFSSL_CTX *ctx;
	struct wg_hashmap *by_addr, *by_cid;
	struct wg_hashmap *half_open_of; /* owner -> its half-open handshakes (unsigned *) */
	uint8_t cookie_secret[32];
	struct wg_lane_server_limits lim;
	struct wg_lane_server_stats st;
	bool batching;
	struct wg_udp_batch *batch;
	uint8_t plain[DATAGRAM_MAX];
	uint8_t rx[RECV_BURST][DATAGRAM_MAX];
	struct sockaddr_storage rx_addr[RECV_BURST];
	struct iovec rx_iov[RECV_BURST];
	struct mmsghdr rx_msgs[RECV_BURST];
};

static pthread_once_t wolfssl_once = PTHREAD_ONCE_INIT;

static void wolfssl_init_once(void)
{
	wolfSSL_Init();
}

/* ---- addresses and time -------------------------------------------------- */

static void make_key(const struct sockaddr *sa, struct peer_key *k)
{
	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		k->addr[10] = k->addr[11] = 0xff;
		memcpy(k->addr + 12, &a->sin_addr, 4);
		k->port = a->sin_port;
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		memcpy(k->addr, &a->sin6_addr, 16);
		k->port = a->sin6_port;
	}
}

static void format_peer(const struct sockaddr *sa, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(a->sin_port));
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(a->sin6_port));
	}
}

static long long ms_until(const struct timespec *t)
{
	struct timespec n;

	clock_gettime(CLOCK_MONOTONIC, &n);
	return (long long)(t->tv_sec - n.tv_sec) * 1000 + (t->tv_nsec - n.tv_nsec) / 1000000;
}

/* ---- wolfSSL callbacks ------------------------------------------------------ */

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct wg_lane_link *l = ctx;
	size_t n;

	(void)ssl;
	if (!l->in)
		return WOLFSSL_CBIO_ERR_WANT_READ;
	n = l->in_len < (size_t)sz ? l->in_len : (size_t)sz;
	memcpy(buf, l->in, n);
	l->in = NULL;
	l->in_len = 0;
	return (int)n;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct wg_lane_link *l = ctx;
	ssize_t n;

	(void)ssl;
	if (l->up && l->srv->batching) {
		wg_udp_batch_add(l->srv->batch, (struct sockaddr *)&l->peer, l->peer_len, buf, (size_t)sz);
		return sz;
	}
	n = sendto(l->srv->fd, buf, (size_t)sz, MSG_DONTWAIT, (struct sockaddr *)&l->peer, l->peer_len);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != EINTR)
		return WOLFSSL_CBIO_ERR_GENERAL;
	return sz; /* a full socket buffer drops it; DTLS retransmits handshakes */
}

/* The identity must be the one the ClientHello named when the link was
 * made (and so the key looked up for it); the binder then proves the key. */
static unsigned int psk_cb(WOLFSSL *ssl, const char *identity, unsigned char *key, unsigned int max_len,
			   const char **suite)
{
	struct wg_lane_link *l = wolfSSL_GetIOReadCtx(ssl);

	if (!l || !identity || max_len < WG_LANE_PSK_LEN || strcmp(identity, l->identity) != 0)
		return 0;
	memcpy(key, l->psk, WG_LANE_PSK_LEN);
	*suite = LANE_SUITE;
	return WG_LANE_PSK_LEN;
}

/* ---- link life ---------------------------------------------------------------- */

static void timer_stop(struct wg_lane_link *l)
{
	if (l->timer) {
		l->srv->host->timer_del(l->timer);
		l->timer = NULL;
	}
}

static void release(struct wg_lane_link *l)
{
	timer_stop(l);
	if (l->ssl)
		wolfSSL_free(l->ssl);
	explicit_bzero(l->psk, sizeof(l->psk));
	free(l);
}

/* Half-open handshakes of one owner, so that one session (whose id its
 * client knows) cannot hold every slot of max_handshakes. */
static unsigned half_open_count(struct wg_lane_server *srv, void *owner)
{
	unsigned *n = wg_hashmap_get(srv->half_open_of, &owner);

	return n ? *n : 0;
}

static int half_open_begin(struct wg_lane_link *l)
{
	struct wg_lane_server *srv = l->srv;
	unsigned *n = wg_hashmap_get(srv->half_open_of, &l->owner);

	if (!n) {
		if (!(n = calloc(1, sizeof(*n))) || wg_hashmap_put(srv->half_open_of, &l->owner, n) < 0) {
			free(n);
			return -1;
		}
	}
	++*n;
	l->half_open = true;
	srv->st.handshakes_open++;
	return 0;
}

static void half_open_end(struct wg_lane_link *l)
{
	struct wg_lane_server *srv = l->srv;
	unsigned *n = wg_hashmap_get(srv->half_open_of, &l->owner);

	if (!l->half_open)
		return;
	l->half_open = false;
	srv->st.handshakes_open--;
	if (n && --*n == 0)
		free(wg_hashmap_del(srv->half_open_of, &l->owner));
}

/* Out of every map and count; idempotent. */
static void detach(struct wg_lane_link *l)
{
	struct wg_lane_server *srv = l->srv;

	if (l->in_addr_map && wg_hashmap_get(srv->by_addr, &l->key) == l)
		wg_hashmap_del(srv->by_addr, &l->key);
	if (l->in_cid_map && wg_hashmap_get(srv->by_cid, l->cid) == l)
		wg_hashmap_del(srv->by_cid, l->cid);
	l->in_addr_map = l->in_cid_map = false;
	half_open_end(l);
	if (l->up) {
		srv->st.links_up--;
		l->up = false;
	}
	timer_stop(l);
}

static void call_begin(struct wg_lane_link *l)
{
	l->busy++;
}

/* false when the link died during the call (then freed). */
static bool call_end(struct wg_lane_link *l)
{
	if (--l->busy > 0)
		return !l->dead;
	if (l->dead) {
		release(l);
		return false;
	}
	return true;
}

/* The link dies from the network side; its owner hears of it if it was up. */
static void lost(struct wg_lane_link *l, const char *why)
{
	bool was_up = l->up;

	if (l->dead)
		return;
	detach(l);
	l->dead = true;
	dtls_log(was_up ? WG_LOG_INFO : WG_LOG_DEBUG, "lane %u %s: %s", l->lane, l->peer_text, why);
	if (was_up && l->srv->cb.on_closed) {
		call_begin(l);
		l->srv->cb.on_closed(l->srv->arg, l->owner, l->lane, l, why);
		call_end(l);
		return;
	}
	if (l->busy == 0)
		release(l);
}

void wg_lane_link_close(struct wg_lane_link *l)
{
	if (!l || l->dead)
		return;
	if (l->up && l->ssl)
		wolfSSL_shutdown(l->ssl); /* close_notify, best effort */
	detach(l);
	l->dead = true;
	if (l->busy == 0)
		release(l);
}

static void handshake_timer(void *arg);

static struct wg_lane_link *link_new(struct wg_lane_server *srv, const struct sockaddr *sa, socklen_t salen,
				     void *owner, const uint8_t sid[WG_LANE_SID_LEN], unsigned lane,
				     const uint8_t psk[WG_LANE_PSK_LEN])
{
	struct wg_lane_link *l = calloc(1, sizeof(*l));
	struct sockaddr_in6 cookie_peer = {.sin6_family = AF_INET6};

	if (!l)
		return NULL;
	l->srv = srv;
	l->owner = owner;
	l->lane = lane;
	memcpy(l->sid, sid, WG_LANE_SID_LEN);
	memcpy(l->psk, psk, WG_LANE_PSK_LEN);
	wg_lane_identity_format(sid, lane, l->identity);
	make_key(sa, &l->key);
	memcpy(&l->peer, sa, salen);
	l->peer_len = salen;
	format_peer(sa, l->peer_text, sizeof(l->peer_text));
	/* The HelloRetryRequest cookie binds the address; built from the key,
	 * never from padding recvfrom left. */
	memcpy(&cookie_peer.sin6_addr, l->key.addr, 16);
	cookie_peer.sin6_port = l->key.port;
	if (getrandom(l->cid, sizeof(l->cid), 0) != sizeof(l->cid) || !(l->ssl = wolfSSL_new(srv->ctx)) ||
	    wolfSSL_dtls_set_peer(l->ssl, &cookie_peer, sizeof(cookie_peer)) != WOLFSSL_SUCCESS ||
	    wolfSSL_dtls_cid_use(l->ssl) != WOLFSSL_SUCCESS ||
	    wolfSSL_dtls_cid_set(l->ssl, l->cid, sizeof(l->cid)) != WOLFSSL_SUCCESS ||
	    wolfSSL_only_dhe_psk(l->ssl) != 0) { /* 0 is success here */
		release(l);
		return NULL;
	}
	wolfSSL_SetIOReadCtx(l->ssl, l);
	wolfSSL_SetIOWriteCtx(l->ssl, l);
	wolfSSL_dtls_set_using_nonblock(l->ssl, 1);
#ifdef WOLFSSL_DTLS_MTU
	wolfSSL_dtls_set_mtu(l->ssl, sa->sa_family == AF_INET ? 1500 - 20 - 8 : 1500 - 40 - 8);
#endif
	return l;
}

/* 1 done, 0 going on, -1 failed (logged). */
static int drive_handshake(struct wg_lane_link *l)
{
	int r = wolfSSL_accept(l->ssl), e;
	char buf[WOLFSSL_MAX_ERROR_SZ];

	if (r == WOLFSSL_SUCCESS)
		return 1;
	e = wolfSSL_get_error(l->ssl, r);
	if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE)
		return 0;
	wolfSSL_ERR_error_string_n((unsigned long)e, buf, sizeof(buf));
	dtls_log(WG_LOG_INFO, "lane %u %s: handshake refused: %s", l->lane, l->peer_text, buf);
	return -1;
}

static void arm_handshake_timer(struct wg_lane_link *l)
{
	long long left = ms_until(&l->deadline);
	long long rtx = (long long)wolfSSL_dtls_get_current_timeout(l->ssl) * 1000;
	long long ms;

	if (wolfSSL_dtls13_use_quick_timeout(l->ssl))
		rtx /= 4;
	ms = rtx > 0 && rtx < left ? rtx : left;
	timer_stop(l);
	l->timer = l->srv->host->timer_add((uint32_t)(ms < 1 ? 1 : ms), 0, handshake_timer, l);
}

static void established(struct wg_lane_link *l)
{
	struct wg_lane_server *srv = l->srv;
	uint8_t psk[WG_LANE_PSK_LEN];
	void *owner = srv->cb.lookup(srv->arg, l->sid, l->lane, psk);
	bool same = owner == l->owner && memcmp(psk, l->psk, sizeof(psk)) == 0;

	explicit_bzero(psk, sizeof(psk));
	if (!same) {
		srv->st.handshakes_refused++;
		lost(l, "its session ended during the handshake");
		return;
	}
	timer_stop(l);
	half_open_end(l);
	l->up = true;
	srv->st.links_up++;
	srv->st.handshakes_done++;
	if (wolfSSL_dtls_cid_is_enabled(l->ssl) == WOLFSSL_SUCCESS && wg_hashmap_put(srv->by_cid, l->cid, l) == 0)
		l->in_cid_map = true;
	dtls_log(WG_LOG_INFO, "lane %u %s: %s %s up%s", l->lane, l->peer_text, wolfSSL_get_version(l->ssl),
		 wolfSSL_get_cipher(l->ssl), l->in_cid_map ? " with a connection ID" : "");
	if (srv->cb.on_up) {
		call_begin(l);
		srv->cb.on_up(srv->arg, l->owner, l->lane, l);
		call_end(l);
	}
}

static void handshake_step(struct wg_lane_link *l)
{
	int r = drive_handshake(l);

	if (r > 0)
		established(l);
	else if (r == 0)
		arm_handshake_timer(l);
	else {
		l->srv->st.handshakes_refused++;
		lost(l, "handshake failed");
	}
}

static void handshake_timer(void *arg)
{
	struct wg_lane_link *l = arg;

	l->timer = NULL; /* fired: the host frees one-shot timers */
	if (ms_until(&l->deadline) <= 0) {
		l->srv->st.handshakes_refused++;
		lost(l, "handshake timed out");
		return;
	}
	if (wolfSSL_dtls_got_timeout(l->ssl) != WOLFSSL_SUCCESS) {
		l->srv->st.handshakes_refused++;
		lost(l, "handshake retransmission failed");
		return;
	}
	arm_handshake_timer(l);
}

/* A ClientHello naming a live lane: a half-open link with that lane's key. */
static void new_peer(struct wg_lane_server *srv, const uint8_t *d, size_t len, const struct sockaddr *sa,
		     socklen_t salen, struct wg_lane_link *same_addr)
{
	const uint8_t *id;
	size_t id_len;
	uint8_t sid[WG_LANE_SID_LEN], psk[WG_LANE_PSK_LEN];
	unsigned lane;
	void *owner;
	struct wg_lane_link *l;

	if (wg_lane_datagram_psk_identity(d, len, &id, &id_len) < 0 ||
	    wg_lane_identity_parse(id, id_len, sid, &lane) < 0)
		return; /* not for us: no answer at all */
	if (srv->st.handshakes_open >= srv->lim.max_handshakes)
		return;
	owner = srv->cb.lookup(srv->arg, sid, lane, psk);
	if (!owner || half_open_count(srv, owner) >= WG_LANE_HALF_OPEN_PER_SESSION) {
		explicit_bzero(psk, sizeof(psk));
		srv->st.handshakes_refused++;
		return;
	}
	l = link_new(srv, sa, salen, owner, sid, lane, psk);
	explicit_bzero(psk, sizeof(psk));
	if (!l) {
		dtls_log(WG_LOG_WARN, "lanes: cannot create a handshake state (out of memory?)");
		return;
	}
	if (same_addr) /* the client starts over from the same address */
		lost(same_addr, "the client started a new handshake");
	if (wg_hashmap_put(srv->by_addr, &l->key, l) < 0) {
		release(l);
		return;
	}
	l->in_addr_map = true;
	if (half_open_begin(l) < 0) {
		detach(l);
		release(l);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &l->deadline);
	l->deadline.tv_sec += srv->lim.timeout_ms / 1000;
	l->deadline.tv_nsec += (long)(srv->lim.timeout_ms % 1000) * 1000000;
	if (l->deadline.tv_nsec >= 1000000000) {
		l->deadline.tv_sec++;
		l->deadline.tv_nsec -= 1000000000;
	}
	l->in = d;
	l->in_len = len;
	handshake_step(l);
}

/* ---- records -------------------------------------------------------------------- */

/* The first record that authenticated from a new address moves the link. */
static void move_now(struct wg_lane_link *l)
{
	struct wg_lane_server *srv = l->srv;
	struct peer_key k;

	l->move_pending = false;
	make_key((struct sockaddr *)&l->move_to, &k);
	if (l->in_addr_map && wg_hashmap_get(srv->by_addr, &l->key) == l)
		wg_hashmap_del(srv->by_addr, &l->key);
	l->in_addr_map = false;
	l->key = k;
	memcpy(&l->peer, &l->move_to, l->move_len);
	l->peer_len = l->move_len;
	if (!wg_hashmap_get(srv->by_addr, &k) && wg_hashmap_put(srv->by_addr, &k, l) == 0)
		l->in_addr_map = true;
	char was[sizeof(l->peer_text)];
	memcpy(was, l->peer_text, sizeof(was));
	format_peer((struct sockaddr *)&l->peer, l->peer_text, sizeof(l->peer_text));
	dtls_log(WG_LOG_INFO, "lane %u %s: moved to %s", l->lane, was, l->peer_text);
	srv->st.moved++;
}

static void handle_records(struct wg_lane_link *l)
{
	struct wg_lane_server *srv = l->srv;
	char buf[WOLFSSL_MAX_ERROR_SZ];

	for (;;) {
		int n = wolfSSL_read(l->ssl, srv->plain, sizeof(srv->plain));
		if (n > 0) {
			if (l->move_pending)
				move_now(l);
			call_begin(l);
			srv->cb.on_record(srv->arg, l->owner, l->lane, l, srv->plain, (size_t)n);
			if (!call_end(l) || l->dead)
				return;
			continue;
		}
		l->move_pending = false; /* nothing authenticated from there */
		int e = wolfSSL_get_error(l->ssl, n);
		if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE)
			return;
		if (e == WOLFSSL_ERROR_ZERO_RETURN) {
			lost(l, "the client closed the lane");
			return;
		}
		/* Bad MACs and replays are dropped inside wolfSSL; what gets
		 * here is fatal (an alert, a broken state). */
		wolfSSL_ERR_error_string_n((unsigned long)e, buf, sizeof(buf));
		lost(l, buf);
		return;
	}
}

static void handle_datagram(struct wg_lane_server *srv, const uint8_t *d, size_t n, const struct sockaddr *sa,
			    socklen_t salen)
{
	uint8_t cid[WG_LANE_CID_LEN];
	struct peer_key key;
	struct wg_lane_link *l = NULL;

	make_key(sa, &key);
	if (wg_lane_datagram_cid(d, n, cid) == 0)
		l = wg_hashmap_get(srv->by_cid, cid);
	if (l) {
		if (memcmp(&key, &l->key, sizeof(key)) != 0) {
			l->move_pending = true;
			memcpy(&l->move_to, sa, salen);
			l->move_len = salen;
		}
	} else {
		const uint8_t *id;
		size_t id_len;
		l = wg_hashmap_get(srv->by_addr, &key);
		if (!l) {
			new_peer(srv, d, n, sa, salen, NULL);
			return;
		}
		if (l->up && wg_lane_datagram_psk_identity(d, n, &id, &id_len) == 0) {
			/* A ClientHello from an up link's address: the same lane
			 * starting over replaces it; another lane may share the
			 * address only while this one is found by its CID. */
			bool same = id_len == strlen(l->identity) && memcmp(id, l->identity, id_len) == 0;
			if (!same && l->in_cid_map) {
				wg_hashmap_del(srv->by_addr, &l->key);
				l->in_addr_map = false;
				l = NULL;
			}
			new_peer(srv, d, n, sa, salen, l);
			return;
		}
	}
	l->in = d;
	l->in_len = n;
	if (l->up)
		handle_records(l);
	else
		handshake_step(l);
}

static void on_readable(int fd, void *arg)
{
	struct wg_lane_server *srv = arg;
	int n;

	for (int i = 0; i < RECV_BURST; i++) {
		srv->rx_iov[i].iov_base = srv->rx[i];
		srv->rx_iov[i].iov_len = sizeof(srv->rx[i]);
		memset(&srv->rx_msgs[i].msg_hdr, 0, sizeof(srv->rx_msgs[i].msg_hdr));
		srv->rx_msgs[i].msg_hdr.msg_name = &srv->rx_addr[i];
		srv->rx_msgs[i].msg_hdr.msg_namelen = sizeof(srv->rx_addr[i]);
		srv->rx_msgs[i].msg_hdr.msg_iov = &srv->rx_iov[i];
		srv->rx_msgs[i].msg_hdr.msg_iovlen = 1;
	}
	n = recvmmsg(fd, srv->rx_msgs, RECV_BURST, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	if (srv->cb.on_burst)
		srv->cb.on_burst(srv->arg, true);
	for (int i = 0; i < n; i++) {
		struct msghdr *m = &srv->rx_msgs[i].msg_hdr;
		const struct sockaddr *sa = m->msg_name;
		if (srv->rx_msgs[i].msg_len == 0 || (m->msg_flags & MSG_TRUNC) ||
		    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
			continue;
		handle_datagram(srv, srv->rx[i], srv->rx_msgs[i].msg_len, sa, m->msg_namelen);
	}
	if (srv->cb.on_burst)
		srv->cb.on_burst(srv->arg, false);
}

/* ---- the server ------------------------------------------------------------------- */

static int make_ctx(struct wg_lane_server *srv)
{
	srv->ctx = wolfSSL_CTX_new(wolfDTLSv1_3_server_method());
	if (!srv->ctx)
		return -1;
	wolfSSL_CTX_set_psk_server_tls13_callback(srv->ctx, psk_cb);
	if (wolfSSL_CTX_set_cipher_list(srv->ctx, LANE_SUITE) != WOLFSSL_SUCCESS)
		return -1;
	wolfSSL_CTX_set_session_cache_mode(srv->ctx, WOLFSSL_SESS_CACHE_OFF);
	wolfSSL_CTX_SetIORecv(srv->ctx, io_recv);
	wolfSSL_CTX_SetIOSend(srv->ctx, io_send);
	return 0;
}

struct wg_lane_server *wg_lane_server_new(const struct wg_host *host, int fd, const struct wg_lane_server_cb *cb,
					  void *arg, const struct wg_lane_server_limits *lim)
{
	struct wg_lane_server *srv;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (!host || fd < 0 || !cb || !cb->lookup || !cb->on_record || !lim) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	pthread_once(&wolfssl_once, wolfssl_init_once);
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		close(fd);
		return NULL;
	}
	srv->host = host;
	srv->cb = *cb;
	srv->arg = arg;
	srv->lim = *lim;
	srv->fd = fd;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		srv->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
							  : ((struct sockaddr_in6 *)&ss)->sin6_port);
	srv->by_addr = wg_hashmap_new(sizeof(struct peer_key));
	srv->by_cid = wg_hashmap_new(WG_LANE_CID_LEN);
	srv->half_open_of = wg_hashmap_new(sizeof(void *));
	srv->batch = malloc(sizeof(*srv->batch));
	if (!srv->by_addr || !srv->by_cid || !srv->half_open_of || !srv->batch || make_ctx(srv) < 0) {
		dtls_log(WG_LOG_ERROR, "lanes: cannot set up the DTLS 1.3 server (out of memory, or wolfSSL lacks DTLS 1.3 PSK)");
		goto fail;
	}
	wg_udp_batch_init(srv->batch, fd, true, NULL);
	srv->watch = host->fd_watch(fd, on_readable, srv);
	if (!srv->watch) {
		dtls_log(WG_LOG_ERROR, "lanes: cannot watch the UDP socket");
		goto fail;
	}
	return srv;
fail:
	wg_lane_server_free(srv);
	return NULL;
}

static void free_one(const void *key, void *value, void *arg)
{
	struct wg_lane_link *l = value;

	(void)key;
	(void)arg;
	l->in_addr_map = l->in_cid_map = false; /* the maps go as a whole */
	if (!l->dead) {
		l->dead = true;
		timer_stop(l);
		if (l->busy == 0)
			release(l);
	}
}

void wg_lane_server_free(struct wg_lane_server *srv)
{
	if (!srv)
		return;
	if (srv->watch)
		srv->host->fd_unwatch(srv->watch);
	/* A link may be in both maps: the CID map first drops those, so the
	 * address map sees only links not freed yet. */
	if (srv->by_cid) {
		void **v;
		size_t n;
		v = wg_hashmap_values(srv->by_cid, &n);
		for (size_t i = 0; v && i < n; i++) {
			struct wg_lane_link *l = v[i];
			if (l->in_addr_map && wg_hashmap_get(srv->by_addr, &l->key) == l)
				wg_hashmap_del(srv->by_addr, &l->key);
			free_one(NULL, l, NULL);
		}
		free(v);
		wg_hashmap_free(srv->by_cid);
	}
	if (srv->by_addr) {
		wg_hashmap_foreach(srv->by_addr, free_one, NULL);
		wg_hashmap_free(srv->by_addr);
	}
	if (srv->half_open_of)
		wg_hashmap_free_owned(srv->half_open_of);
	if (srv->ctx)
		wolfSSL_CTX_free(srv->ctx);
	free(srv->batch);
	if (srv->fd >= 0)
		close(srv->fd);
	free(srv);
}

int wg_lane_server_port(const struct wg_lane_server *srv)
{
	return srv ? srv->port : 0;
}

/* ---- sending ------------------------------------------------------------------------ */

int wg_lane_link_send(struct wg_lane_link *l, const uint8_t *rec, size_t len)
{
	if (!l || !l->up || l->dead || len == 0)
		return -1;
	return wolfSSL_write(l->ssl, rec, (int)len) == (int)len ? 0 : -1;
}

const char *wg_lane_link_peer(const struct wg_lane_link *l)
{
	return l ? l->peer_text : "?";
}

size_t wg_lane_link_max_record(const struct wg_lane_link *l)
{
	int max = l && l->ssl ? wolfSSL_GetMaxOutputSize(l->ssl) : 0;

	return max > 0 ? (size_t)max : 0;
}

void wg_lane_server_batch_begin(struct wg_lane_server *srv)
{
	srv->batching = true;
}

void wg_lane_server_batch_end(struct wg_lane_server *srv)
{
	srv->batching = false;
	if (!wg_udp_batch_empty(srv->batch))
		wg_udp_batch_flush(srv->batch);
}

void wg_lane_server_stats(const struct wg_lane_server *srv, struct wg_lane_server_stats *out)
{
	*out = srv->st;
	out->dropped = srv->batch ? srv->batch->dropped : 0;
}
