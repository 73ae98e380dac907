/* The DTLS channel: one UDP socket, many peers, one WOLFSSL per peer fed
 * through custom I/O callbacks (see dtls_server.h for the model).
 *
 * How a datagram finds its state: srv->links maps the peer address to its
 * link (half-open or up), one hash lookup per datagram. A datagram from an
 * unknown address is looked at only if it is a ClientHello whose session id
 * is a live session's App-ID (cb->lookup); anything else is dropped without
 * an answer.
 *
 * HelloVerifyRequest stays on (wolfSSL 5.7 cannot turn it off for DTLS 1.2)
 * and we use it as a return-routability check before keeping any state: the
 * first ClientHello is answered by a throwaway WOLFSSL that shares the
 * server's cookie secret, and only a ClientHello that comes back with a valid
 * cookie gets a registered, timed, counted half-open link. The App-ID alone
 * is not enough for that, since it travels in clear in every ClientHello.
 * Half-open links are bounded three ways: in all (max_handshakes), per
 * session (App-ID) and per client address (IP without port), so that one
 * logged-in user, or one host, cannot take every slot from the others.
 *
 * Lifetime: a link is detached from the maps at once when it dies, but freed
 * only when no callback into the core is running on it (busy), so the core
 * may close a link from inside on_packet or on_up. Not thread-safe: one
 * server belongs to one event loop. Timers and the socket's readiness come
 * from the host's table (timer_add, fd_watch). */
#include "dtls_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "dtls_hello.h"
#include "dtls_legacy.h"
#include "dtls_legacy_ems.h"
#include "dtls_log.h"
#include "dtls_payload.h"
#include "hashmap.h"
#include "udp_batch.h"

#define DEFAULT_MAX_HANDSHAKES 1024
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
#define DEFAULT_PER_SESSION 4   /* a client handshakes once; a restart or a move adds one */
#define DEFAULT_PER_ADDRESS 64  /* many users may share a NAT address */
#define RECV_BURST 64       /* datagrams per wakeup, so other events get a turn */
#define DATAGRAM_MAX 4096   /* wolfSSL reads at most MTU + 500; larger is dropped */
#define PLAIN_MAX 16384     /* the largest DTLS record plaintext (RFC 6347) */
#define COOKIE_SECRET_LEN 32

/* CSTP/DTLS packet types (protocol-notes.md 3). */
enum {
	PKT_DATA = 0x00,
	PKT_DPD_REQ = 0x03,
	PKT_DPD_RESP = 0x04,
	PKT_DISCONNECT = 0x05,
	PKT_KEEPALIVE = 0x07,
};

/* The peer address as a fixed-size hash key (IPv4 as v4-mapped IPv6, so a
 * dual-stack socket gives one key per peer whichever form it reports). */
struct peer_key {
	uint8_t addr[16];
	uint16_t port; /* network order */
} __attribute__((packed));

struct wg_dtls_link {
	struct wg_dtls_server *srv;   /* borrowed */
	WOLFSSL *ssl;                 /* owned */
	struct wg_timer *timer;       /* owned, while armed: handshake retransmit and deadline */
	struct peer_key key;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	char peer_text[INET6_ADDRSTRLEN + 10];
	void *session;                /* the core's, borrowed */
	uint8_t app_id[WG_DTLS_APP_ID_LEN];
	uint8_t psk[WG_DTLS_PSK_LEN]; /* wiped on free */
	struct wg_dtls_legacy_params legacy; /* legacy DTLS: suite != NULL; wiped on free */
	size_t max_payload;           /* set when up */
	struct timespec deadline;     /* end of the half-open state */
	bool up;
	bool registered;              /* in srv->links, and counted in the shares */
	bool in_session_map;          /* in srv->by_session */
	bool sent_hvr;                /* wolfSSL answered statelessly */
	bool dead;                    /* detached; freed once busy is 0 */
	unsigned busy;                /* callbacks into the core running on it */
	const uint8_t *in;            /* the datagram being fed to wolfSSL */
	size_t in_len;
};

/* How many half-open links one session or one address holds. */
struct share {
	unsigned n;
};

struct wg_dtls_server {
	const struct wg_host *host;   /* borrowed: timers, the socket watch */
	int fd;
	struct wg_watch *watch;
	WOLFSSL_CTX *ctx;
	WOLFSSL_CTX *legacy_ctx;       /* legacy DTLS resumption; NULL if wolfSSL cannot */
	struct wg_hashmap *links;      /* peer_key -> link, half-open and up */
	struct wg_hashmap *by_session; /* session pointer -> its up link */
	struct wg_hashmap *per_session; /* session pointer -> struct share (owned) */
	struct wg_hashmap *per_addr;    /* 16-byte address -> struct share (owned) */
	size_t handshakes;             /* registered links not yet up */
	size_t links_up;
	unsigned max_handshakes, max_per_session, max_per_addr;
	unsigned timeout_ms;
	struct wg_dtls_callbacks cb;
	void *arg;
	uint8_t cookie_secret[COOKIE_SECRET_LEN];
	/* Records of up links written while the core sends a burst
	 * (wg_dtls_server_batch_begin/end) are gathered here and leave in one
	 * sendmmsg with UDP GSO, instead of one sendto each. Owned. */
	struct wg_udp_batch *batch;
	bool batching;
	/* One recvmmsg burst: RECV_BURST datagrams and their addresses. */
	struct mmsghdr rx_msgs[RECV_BURST];
	struct iovec rx_iov[RECV_BURST];
	struct sockaddr_storage rx_addr[RECV_BURST];
	uint8_t rx[RECV_BURST][DATAGRAM_MAX];
	uint8_t plain[PLAIN_MAX];      /* one decrypted record */
	uint8_t tx[PLAIN_MAX];         /* one record to encrypt */
};

/* The PSK suites GnuTLS offers under openconnect's "-KX-ALL:+PSK" (plain
 * PSK key exchange only), best first; ECDHE-PSK for other clients. */
static const char psk_suites[] = "PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256:PSK-CHACHA20-POLY1305:"
				 "PSK-AES256-CBC-SHA384:PSK-AES128-CBC-SHA256:"
				 "ECDHE-PSK-CHACHA20-POLY1305:ECDHE-PSK-AES128-CBC-SHA256";

static pthread_once_t wolfssl_once = PTHREAD_ONCE_INIT;

static void wolfssl_init_once(void)
{
	wolfSSL_Init();
}

/* ---- addresses ---------------------------------------------------------- */

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

/* ---- time --------------------------------------------------------------- */

static struct timespec now_mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

static long long ms_until(const struct timespec *t)
{
	struct timespec n = now_mono();

	return (long long)(t->tv_sec - n.tv_sec) * 1000 + (t->tv_nsec - n.tv_nsec) / 1000000;
}

/* ---- wolfSSL callbacks -------------------------------------------------- */

/* Hands wolfSSL the datagram at hand, whole, once. */
static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct wg_dtls_link *l = ctx;
	size_t n;

	(void)ssl;
	if (!l->in)
		return WOLFSSL_CBIO_ERR_WANT_READ;
	n = l->in_len < (size_t)sz ? l->in_len : (size_t)sz; /* a cut record fails its MAC */
	memcpy(buf, l->in, n);
	l->in = NULL;
	l->in_len = 0;
	return (int)n;
}

static bool is_hello_verify_request(const char *buf, int sz)
{
	const uint8_t *p = (const uint8_t *)buf;

	return sz > 13 && p[0] == 22 && p[3] == 0 && p[4] == 0 && p[13] == 3;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct wg_dtls_link *l = ctx;
	ssize_t n;

	(void)ssl;
	if (!l->up && is_hello_verify_request(buf, sz))
		l->sent_hvr = true;
	/* Data of an up link during a burst waits for the burst's end (it
	 * carries its own copy of the address, so the link may go meanwhile).
	 * Handshake records never wait: they are driven by timers and the
	 * peer, outside any burst. */
	if (l->up && l->srv->batching) {
		wg_udp_batch_add(l->srv->batch, (struct sockaddr *)&l->peer, l->peer_len, buf, (size_t)sz);
		return sz;
	}
	n = sendto(l->srv->fd, buf, (size_t)sz, MSG_DONTWAIT, (struct sockaddr *)&l->peer, l->peer_len);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != EINTR)
		return WOLFSSL_CBIO_ERR_GENERAL;
	/* A full socket buffer drops the datagram, as the network may; DTLS
	 * retransmits handshakes and the tunnel tolerates loss. */
	return sz;
}

/* The identity is not checked: openconnect always sends "psk" (the name
 * is sent after the ServerHello, too late to pick a session); what binds
 * the flow to its session is the App-ID in the session id plus this key. */
static unsigned int psk_cb(WOLFSSL *ssl, const char *identity, unsigned char *key, unsigned int max_len)
{
	struct wg_dtls_link *l = wolfSSL_GetIOReadCtx(ssl);

	(void)identity;
	if (!l || max_len < WG_DTLS_PSK_LEN)
		return 0;
	memcpy(key, l->psk, WG_DTLS_PSK_LEN);
	return WG_DTLS_PSK_LEN;
}

static const char *ssl_error_text(int err, char *buf, size_t len)
{
	wolfSSL_ERR_error_string_n((unsigned long)err, buf, len);
	return buf;
}

/* ---- link lifetime ------------------------------------------------------ */

static void timer_stop(struct wg_dtls_link *l)
{
	if (l->timer) {
		l->srv->host->timer_del(l->timer);
		l->timer = NULL;
	}
}

/* ---- shares of the half-open table --------------------------------------- */

static unsigned share_of(struct wg_hashmap *m, const void *key)
{
	struct share *sh = wg_hashmap_get(m, key);

	return sh ? sh->n : 0;
}

static int share_add(struct wg_hashmap *m, const void *key)
{
	struct share *sh = wg_hashmap_get(m, key);

	if (!sh) {
		if (!(sh = calloc(1, sizeof(*sh))))
			return -1;
		if (wg_hashmap_put(m, key, sh) < 0) {
			free(sh);
			return -1;
		}
	}
	sh->n++;
	return 0;
}

static void share_drop(struct wg_hashmap *m, const void *key)
{
	struct share *sh = wg_hashmap_get(m, key);

	if (sh && --sh->n == 0) {
		wg_hashmap_del(m, key);
		free(sh);
	}
}

/* A registered link leaves the half-open state (up, or gone). */
static void half_open_end(struct wg_dtls_link *l)
{
	struct wg_dtls_server *srv = l->srv;

	srv->handshakes--;
	share_drop(srv->per_session, &l->session);
	share_drop(srv->per_addr, l->key.addr);
}

static void link_release(struct wg_dtls_link *l)
{
	timer_stop(l);
	if (l->ssl)
		wolfSSL_free(l->ssl);
	explicit_bzero(l->psk, sizeof(l->psk));
	explicit_bzero(&l->legacy, sizeof(l->legacy));
	free(l);
}

/* Out of every map and count; idempotent. */
static void link_detach(struct wg_dtls_link *l)
{
	struct wg_dtls_server *srv = l->srv;

	if (l->registered) {
		if (wg_hashmap_get(srv->links, &l->key) == l)
			wg_hashmap_del(srv->links, &l->key);
		if (l->up)
			srv->links_up--;
		else
			half_open_end(l);
		l->registered = false;
	}
	if (l->in_session_map) {
		if (wg_hashmap_get(srv->by_session, &l->session) == l)
			wg_hashmap_del(srv->by_session, &l->session);
		l->in_session_map = false;
	}
	timer_stop(l);
}

static void link_destroy(struct wg_dtls_link *l)
{
	link_detach(l);
	l->dead = true;
	if (l->busy == 0)
		link_release(l);
}

static void call_begin(struct wg_dtls_link *l)
{
	l->busy++;
}

/* Returns false if the link died during the call (it is then freed). */
static bool call_end(struct wg_dtls_link *l)
{
	if (--l->busy > 0)
		return !l->dead;
	if (l->dead) {
		link_release(l);
		return false;
	}
	return true;
}

/* The link dies from the network side: tell the core if it knew it. */
static void link_lost(struct wg_dtls_link *l, const char *why)
{
	bool was_up = l->up;

	if (l->dead)
		return;
	link_detach(l);
	l->dead = true; /* wg_dtls_link_close from on_closed is then a no-op */
	dtls_log(was_up ? WG_LOG_INFO : WG_LOG_DEBUG, "DTLS %s: %s", l->peer_text, why);
	if (was_up && l->srv->cb.on_closed) {
		call_begin(l);
		l->srv->cb.on_closed(l->srv->arg, l->session, l);
		call_end(l);
		return;
	}
	if (l->busy == 0)
		link_release(l);
}

static void handshake_timer(void *arg);

static struct wg_dtls_link *link_new(struct wg_dtls_server *srv, const struct sockaddr *sa, socklen_t salen,
				     const struct peer_key *key, void *session, const uint8_t *app_id,
				     const uint8_t psk[WG_DTLS_PSK_LEN], const struct wg_dtls_legacy_params *legacy)
{
	struct wg_dtls_link *l = calloc(1, sizeof(*l));
	struct sockaddr_in6 cookie_peer = {.sin6_family = AF_INET6, .sin6_port = key->port};

	if (!l)
		return NULL;
	l->srv = srv;
	l->key = *key;
	memcpy(&l->peer, sa, salen);
	l->peer_len = salen;
	format_peer(sa, l->peer_text, sizeof(l->peer_text));
	l->session = session;
	memcpy(l->app_id, app_id, WG_DTLS_APP_ID_LEN);
	memcpy(l->psk, psk, WG_DTLS_PSK_LEN);
	l->legacy = *legacy;
	l->ssl = wolfSSL_new(legacy->suite ? srv->legacy_ctx : srv->ctx);
	/* The cookie binds the peer address: wolfSSL HMACs the bytes given
	 * here, so they are built from the key, never from what recvfrom left
	 * in flow labels or padding. */
	memcpy(&cookie_peer.sin6_addr, key->addr, 16);
	if (!l->ssl ||
	    wolfSSL_DTLS_SetCookieSecret(l->ssl, srv->cookie_secret, sizeof(srv->cookie_secret)) != 0 ||
	    wolfSSL_dtls_set_peer(l->ssl, &cookie_peer, sizeof(cookie_peer)) != WOLFSSL_SUCCESS) {
		link_release(l);
		return NULL;
	}
	wolfSSL_SetIOReadCtx(l->ssl, l);
	wolfSSL_SetIOWriteCtx(l->ssl, l);
	wolfSSL_dtls_set_using_nonblock(l->ssl, 1);
#ifdef WOLFSSL_DTLS_MTU
	/* A 1500-byte path less IP and UDP headers; without this option
	 * wolfSSL caps datagrams at 1400 bytes (see wg_dtls_link_max_payload). */
	wolfSSL_dtls_set_mtu(l->ssl, sa->sa_family == AF_INET ? 1500 - 20 - 8 : 1500 - 40 - 8);
#endif
	return l;
}

/* ---- handshake ---------------------------------------------------------- */

static void arm_handshake_timer(struct wg_dtls_link *l)
{
	long long left = ms_until(&l->deadline);
	long long rtx = (long long)wolfSSL_dtls_get_current_timeout(l->ssl) * 1000;
	long long ms = rtx > 0 && rtx < left ? rtx : left;

	if (ms < 1)
		ms = 1;
	timer_stop(l);
	l->timer = l->srv->host->timer_add((uint32_t)ms, 0, handshake_timer, l);
}

/* Returns 1 when the handshake is done, 0 while it goes on, -1 on failure
 * (logged; the caller frees the link). */
static int drive_handshake(struct wg_dtls_link *l)
{
	int r = wolfSSL_accept(l->ssl);
	int e;
	char buf[WOLFSSL_MAX_ERROR_SZ];

	if (r == WOLFSSL_SUCCESS)
		return 1;
	e = wolfSSL_get_error(l->ssl, r);
	if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE)
		return 0;
	dtls_log(WG_LOG_INFO, "DTLS %s: handshake failed: %s", l->peer_text, ssl_error_text(e, buf, sizeof(buf)));
	return -1;
}

/* The session may have ended while the handshake ran: it must still be
 * live under the same App-ID with the same key. */
static bool session_still_live(struct wg_dtls_link *l)
{
	uint8_t psk[WG_DTLS_PSK_LEN];
	void *s = l->srv->cb.lookup(l->srv->arg, l->app_id, WG_DTLS_APP_ID_LEN, psk);
	bool same = s == l->session && memcmp(psk, l->psk, sizeof(psk)) == 0;
	struct wg_dtls_legacy_params legacy = {0};

	explicit_bzero(psk, sizeof(psk));
	/* legacy DTLS: the same resumed session too */
	if (same && l->legacy.suite)
		same = l->srv->cb.legacy && l->srv->cb.legacy(l->srv->arg, s, &legacy) &&
		       wg_dtls_legacy_same(&legacy, &l->legacy);
	explicit_bzero(&legacy, sizeof(legacy));
	return same;
}

static void link_established(struct wg_dtls_link *l)
{
	struct wg_dtls_server *srv = l->srv;
	struct wg_dtls_link *old;
	int max;

	if (!session_still_live(l)) {
		link_lost(l, "session ended during the DTLS handshake");
		return;
	}
	timer_stop(l);
	l->up = true;
	half_open_end(l);
	srv->links_up++;
	max = wolfSSL_GetMaxOutputSize(l->ssl);
	l->max_payload = max > 1 ? (size_t)max - 1 : 0;
	old = wg_hashmap_get(srv->by_session, &l->session);
	if (old && old != l)
		link_lost(old, "replaced by a new DTLS link"); /* roaming */
	if (wg_hashmap_put(srv->by_session, &l->session, l) < 0) {
		link_lost(l, "out of memory");
		return;
	}
	l->in_session_map = true;
	dtls_log(WG_LOG_INFO, "DTLS %s: %s %s up, records up to %zu bytes", l->peer_text,
	       wolfSSL_get_version(l->ssl), wolfSSL_get_cipher(l->ssl), l->max_payload);
	if (srv->cb.on_up) {
		call_begin(l);
		srv->cb.on_up(srv->arg, l->session, l);
		call_end(l);
	}
}

static void handshake_step(struct wg_dtls_link *l)
{
	int r = drive_handshake(l);

	if (r > 0)
		link_established(l);
	else if (r == 0)
		arm_handshake_timer(l);
	else
		link_lost(l, "handshake failed");
}

static void handshake_timer(void *arg)
{
	struct wg_dtls_link *l = arg;

	l->timer = NULL; /* a fired one-shot timer is the host's to free */
	if (ms_until(&l->deadline) <= 0) {
		link_lost(l, "handshake timed out");
		return;
	}
	if (wolfSSL_dtls_got_timeout(l->ssl) != WOLFSSL_SUCCESS) {
		link_lost(l, "handshake retransmission failed");
		return;
	}
	arm_handshake_timer(l);
}

/* A ClientHello from an address without a link (existing == NULL), or from
 * the address of an up link whose client starts over. */
static void new_peer(struct wg_dtls_server *srv, const uint8_t *pkt, size_t len, const struct sockaddr *sa,
		     socklen_t salen, const struct peer_key *key, struct wg_dtls_link *existing)
{
	uint8_t sid[WG_DTLS_SESSION_ID_MAX], psk[WG_DTLS_PSK_LEN];
	size_t sid_len;
	void *session;
	struct wg_dtls_link *l;
	struct wg_dtls_legacy_params legacy = {0};
	int r;

	if (wg_dtls_hello_session_id(pkt, len, sid, &sid_len) < 0 || sid_len != WG_DTLS_APP_ID_LEN)
		return; /* not a ClientHello for us: no answer at all */
	if (srv->handshakes >= srv->max_handshakes || share_of(srv->per_addr, key->addr) >= srv->max_per_addr)
		return;
	session = srv->cb.lookup(srv->arg, sid, sid_len, psk);
	if (!session || share_of(srv->per_session, &session) >= srv->max_per_session) {
		explicit_bzero(psk, sizeof(psk));
		return;
	}
	/* legacy DTLS: this session resumes the client's master secret */
	if (srv->cb.legacy && srv->cb.legacy(srv->arg, session, &legacy) && (!legacy.suite || !srv->legacy_ctx)) {
		explicit_bzero(&legacy, sizeof(legacy));
		explicit_bzero(psk, sizeof(psk));
		return;
	}
	/* legacy DTLS: the resumed session has EMS exactly when this hello asks */
	if (legacy.suite)
		legacy.ems = wg_dtls_legacy_hello_ems(pkt, len);
	l = link_new(srv, sa, salen, key, session, sid, psk, &legacy);
	explicit_bzero(psk, sizeof(psk));
	explicit_bzero(&legacy, sizeof(legacy));
	if (!l) {
		dtls_log(WG_LOG_WARN, "DTLS: cannot create a handshake state (out of memory?)");
		return;
	}
	l->in = pkt;
	l->in_len = len;
	r = drive_handshake(l);
	if (r < 0 || l->sent_hvr) {
		/* Answered statelessly (or refused): the client comes back
		 * with the cookie, and a fresh object checks it. */
		link_release(l);
		return;
	}
	if (existing)
		link_lost(existing, "the client started a new DTLS handshake");
	if (share_add(srv->per_session, &l->session) < 0) {
		link_release(l);
		return;
	}
	if (share_add(srv->per_addr, key->addr) < 0) {
		share_drop(srv->per_session, &l->session);
		link_release(l);
		return;
	}
	if (wg_hashmap_put(srv->links, key, l) < 0) {
		share_drop(srv->per_session, &l->session);
		share_drop(srv->per_addr, key->addr);
		link_release(l);
		return;
	}
	l->registered = true;
	srv->handshakes++;
	l->deadline = now_mono();
	l->deadline.tv_sec += srv->timeout_ms / 1000;
	l->deadline.tv_nsec += (long)(srv->timeout_ms % 1000) * 1000000;
	if (l->deadline.tv_nsec >= 1000000000) {
		l->deadline.tv_sec++;
		l->deadline.tv_nsec -= 1000000000;
	}
	if (r > 0)
		link_established(l);
	else
		arm_handshake_timer(l);
}

/* ---- records after the handshake ---------------------------------------- */

/* Returns false if the link is gone. */
static bool handle_record(struct wg_dtls_link *l, uint8_t *rec, size_t n)
{
	struct wg_dtls_server *srv = l->srv;

	switch (wg_dtls_payload_kind(rec, n)) {
	case WG_DTLS_DPD_REQ: /* answered with the same payload, MTU probes included */
		rec[0] = PKT_DPD_RESP;
		if (n - 1 <= l->max_payload)
			wolfSSL_write(l->ssl, rec, (int)n);
		return true;
	case WG_DTLS_DATA:
	case WG_DTLS_DISCONNECT:
		if (!srv->cb.on_packet)
			return true;
		call_begin(l);
		srv->cb.on_packet(srv->arg, l->session, rec[0], rec + 1, n - 1);
		return call_end(l);
	case WG_DTLS_IGNORED: /* KEEPALIVE, DPD-RESP and anything unknown: absorbed */
		return true;
	}
	return true;
}

/* single: the datagram is one record (wg_dtls_single_record), so once it
 * gave its data nothing is left; the read that would only say so (a full
 * trip through wolfSSL's record layer per datagram) is skipped. */
static void handle_records(struct wg_dtls_link *l, bool single)
{
	struct wg_dtls_server *srv = l->srv;
	char buf[WOLFSSL_MAX_ERROR_SZ];

	for (;;) {
		int n = wolfSSL_read(l->ssl, srv->plain, sizeof(srv->plain));
		if (n > 0) {
			if (!handle_record(l, srv->plain, (size_t)n) || single)
				return;
			continue;
		}
		int e = wolfSSL_get_error(l->ssl, n);
		if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE)
			return;
		if (e == WOLFSSL_ERROR_ZERO_RETURN) {
			link_lost(l, "peer closed the DTLS link");
			return;
		}
		/* Bad MACs, replays and stray records are dropped inside
		 * wolfSSL without an error in DTLS; what gets here is fatal
		 * (an alert from the peer, a broken state). */
		link_lost(l, ssl_error_text(e, buf, sizeof(buf)));
		return;
	}
}

/* ---- the socket ---------------------------------------------------------- */

static void handle_datagram(struct wg_dtls_server *srv, uint8_t *rx, size_t n, const struct sockaddr *sa,
			    socklen_t salen)
{
	struct peer_key key;
	struct wg_dtls_link *l;
	uint8_t sid[WG_DTLS_SESSION_ID_MAX];
	size_t sid_len;

	make_key(sa, &key);
	l = wg_hashmap_get(srv->links, &key);
	if (!l) {
		new_peer(srv, rx, n, sa, salen, &key, NULL);
		return;
	}
	if (l->up && wg_dtls_hello_session_id(rx, n, sid, &sid_len) == 0) {
		/* Same address, new handshake: the client restarted. The old
		 * link goes only if the new hello passes the cookie check. */
		new_peer(srv, rx, n, sa, salen, &key, l);
		return;
	}
	l->in = rx;
	l->in_len = n;
	if (l->up)
		handle_records(l, wg_dtls_single_record(rx, n));
	else
		handshake_step(l);
	/* l may be freed here. */
}

/* Up to RECV_BURST datagrams with one recvmmsg. The core hears of the
 * burst's start and end (on_burst), so what the datagrams carry can be
 * written to the TUN device together (merged per TCP flow). */
static void on_readable(int fd, void *arg)
{
	struct wg_dtls_server *srv = arg;
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
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			dtls_log(WG_LOG_DEBUG, "DTLS: recvmmsg: %s", strerror(errno));
		return;
	}
	if (srv->cb.on_burst)
		srv->cb.on_burst(srv->arg, true);
	for (int i = 0; i < n; i++) {
		struct msghdr *m = &srv->rx_msgs[i].msg_hdr;
		size_t len = srv->rx_msgs[i].msg_len;
		const struct sockaddr *sa = m->msg_name;

		if (len == 0 || (m->msg_flags & MSG_TRUNC))
			continue; /* empty, or cut: nothing DTLS can use */
		if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
			continue;
		handle_datagram(srv, srv->rx[i], len, sa, m->msg_namelen);
	}
	if (srv->cb.on_burst)
		srv->cb.on_burst(srv->arg, false);
}

/* ---- server ------------------------------------------------------------- */

/* legacy DTLS: what the session lookup of dtls_legacy.c resumes for ssl */
static const struct wg_dtls_legacy_params *legacy_params_of(WOLFSSL *ssl)
{
	struct wg_dtls_link *l = wolfSSL_GetIOReadCtx(ssl);

	return l ? &l->legacy : NULL;
}

static int make_ctx(struct wg_dtls_server *srv)
{
	srv->ctx = wolfSSL_CTX_new(wolfDTLSv1_2_server_method());
	if (!srv->ctx)
		return -ENOMEM;
	/* The callback first: wolfSSL keeps PSK suites only once it knows
	 * PSK is in use, and without a certificate it needs PSK to serve. */
	wolfSSL_CTX_set_psk_server_callback(srv->ctx, psk_cb);
	if (wolfSSL_CTX_set_cipher_list(srv->ctx, psk_suites) != WOLFSSL_SUCCESS) {
		dtls_log(WG_LOG_ERROR, "DTLS: this wolfSSL has none of the PSK suites %s", psk_suites);
		return -ENOTSUP;
	}
	/* Each flow is a full PSK handshake; the session id is the App-ID,
	 * never something to resume, so no cache. */
	wolfSSL_CTX_set_session_cache_mode(srv->ctx, WOLFSSL_SESS_CACHE_OFF);
	wolfSSL_CTX_SetIORecv(srv->ctx, io_recv);
	wolfSSL_CTX_SetIOSend(srv->ctx, io_send);
	/* legacy DTLS: a second context that only resumes (dtls_legacy.c) */
	char why[600];
	srv->legacy_ctx = wg_dtls_legacy_ctx_new(legacy_params_of, why, sizeof(why));
	if (srv->legacy_ctx) {
		wolfSSL_CTX_SetIORecv(srv->legacy_ctx, io_recv);
		wolfSSL_CTX_SetIOSend(srv->legacy_ctx, io_send);
		dtls_log(WG_LOG_DEBUG, "legacy DTLS: %s", why);
	} else
		dtls_log(WG_LOG_WARN, "legacy DTLS off: %s", why);
	return 0;
}

struct wg_dtls_server *wg_dtls_server_new_on(const struct wg_host *host, int fd, const struct wg_dtls_callbacks *cb,
					     void *arg)
{
	struct wg_dtls_server *srv;
	int r;

	if (!host || !host->timer_add || !host->fd_watch || fd < 0 || !cb || !cb->lookup) {
		dtls_log(WG_LOG_ERROR, "DTLS: bad arguments to wg_dtls_server_new_on");
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
	srv->max_handshakes = DEFAULT_MAX_HANDSHAKES;
	srv->timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
	srv->max_per_session = DEFAULT_PER_SESSION;
	srv->max_per_addr = DEFAULT_PER_ADDRESS;
	srv->fd = fd;
	srv->links = wg_hashmap_new(sizeof(struct peer_key));
	srv->by_session = wg_hashmap_new(sizeof(void *));
	srv->per_session = wg_hashmap_new(sizeof(void *));
	srv->per_addr = wg_hashmap_new(16);
	if (!srv->links || !srv->by_session || !srv->per_session || !srv->per_addr ||
	    getrandom(srv->cookie_secret, sizeof(srv->cookie_secret), 0) != sizeof(srv->cookie_secret)) {
		dtls_log(WG_LOG_ERROR, "DTLS: cannot set up: %s", strerror(errno ? errno : ENOMEM));
		goto fail;
	}
	srv->batch = malloc(sizeof(*srv->batch));
	if (!srv->batch) {
		dtls_log(WG_LOG_ERROR, "DTLS: cannot set up: out of memory");
		goto fail;
	}
	wg_udp_batch_init(srv->batch, srv->fd, true, NULL);
	r = make_ctx(srv);
	if (r < 0) {
		dtls_log(WG_LOG_ERROR, "DTLS: cannot create the wolfSSL context: %s", strerror(-r));
		goto fail;
	}
	srv->watch = host->fd_watch(srv->fd, on_readable, srv);
	if (!srv->watch) {
		dtls_log(WG_LOG_ERROR, "DTLS: cannot watch the UDP socket");
		goto fail;
	}
	return srv;
fail:
	wg_dtls_server_free(srv);
	return NULL;
}

/* Frees every link without callbacks: the core is tearing down too. */
static void free_all_links(struct wg_dtls_server *srv)
{
	size_t n;
	void **all = wg_hashmap_values(srv->links, &n);

	for (size_t i = 0; i < n; i++)
		link_destroy(all[i]);
	free(all);
}

void wg_dtls_server_free(struct wg_dtls_server *srv)
{
	if (!srv)
		return;
	if (srv->links && srv->by_session)
		free_all_links(srv);
	wg_hashmap_free(srv->links);
	wg_hashmap_free(srv->by_session);
	wg_hashmap_free(srv->per_session); /* empty: every link was detached */
	wg_hashmap_free(srv->per_addr);
	if (srv->watch)
		srv->host->fd_unwatch(srv->watch);
	if (srv->ctx)
		wolfSSL_CTX_free(srv->ctx);
	wg_dtls_legacy_ctx_free(srv->legacy_ctx);
	free(srv->batch);
	if (srv->fd >= 0)
		close(srv->fd);
	explicit_bzero(srv->cookie_secret, sizeof(srv->cookie_secret));
	free(srv);
}

int wg_dtls_server_port(const struct wg_dtls_server *srv)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(srv->fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

void wg_dtls_server_set_shares(struct wg_dtls_server *srv, unsigned per_session, unsigned per_address)
{
	if (per_session)
		srv->max_per_session = per_session;
	if (per_address)
		srv->max_per_addr = per_address;
}

void wg_dtls_server_set_limits(struct wg_dtls_server *srv, unsigned max_handshakes, unsigned timeout_ms)
{
	if (max_handshakes)
		srv->max_handshakes = max_handshakes;
	if (timeout_ms)
		srv->timeout_ms = timeout_ms;
}

void wg_dtls_server_stats(const struct wg_dtls_server *srv, struct wg_dtls_stats *out)
{
	out->links_up = srv->links_up;
	out->handshakes = srv->handshakes;
	out->dropped = srv->batch ? srv->batch->dropped : 0;
}

/* ---- links, for the core ------------------------------------------------ */

int wg_dtls_send(struct wg_dtls_link *l, uint8_t type, const uint8_t *payload, size_t len)
{
	uint8_t *buf;

	if (!l || !l->up || l->dead || len > l->max_payload)
		return -1;
	buf = l->srv->tx;
	buf[0] = type;
	if (len)
		memcpy(buf + 1, payload, len);
	return wolfSSL_write(l->ssl, buf, (int)len + 1) == (int)len + 1 ? 0 : -1;
}

int wg_dtls_send_record(struct wg_dtls_link *l, uint8_t *rec, size_t len)
{
	if (!l || !l->up || l->dead || len < 1 || len - 1 > l->max_payload)
		return -1;
	return wolfSSL_write(l->ssl, rec, (int)len) == (int)len ? 0 : -1;
}

void wg_dtls_link_close(struct wg_dtls_link *l)
{
	if (!l || l->dead)
		return;
	if (l->up)
		wolfSSL_shutdown(l->ssl); /* close_notify, best effort */
	dtls_log(WG_LOG_INFO, "DTLS %s: closed by the session", l->peer_text);
	link_destroy(l);
}

const char *wg_dtls_link_peer(const struct wg_dtls_link *l)
{
	return l->peer_text;
}

size_t wg_dtls_link_max_payload(const struct wg_dtls_link *l)
{
	return l && l->up && !l->dead ? l->max_payload : 0;
}

void wg_dtls_server_batch_begin(struct wg_dtls_server *srv)
{
	if (srv && srv->batch)
		srv->batching = true;
}

void wg_dtls_server_batch_end(struct wg_dtls_server *srv)
{
	if (!srv || !srv->batching)
		return;
	srv->batching = false;
	if (!wg_udp_batch_empty(srv->batch))
		wg_udp_batch_flush(srv->batch);
}

bool wg_dtls_server_legacy_ok(const struct wg_dtls_server *srv)
{
	return srv && srv->legacy_ctx;
}
