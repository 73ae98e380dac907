/* The DTLS channel: one UDP socket, many peers, one WOLFSSL per peer fed
 * through custom I/O callbacks (see dtls.h for the model).
 *
 * A datagram from an unknown address creates state only if it is a
 * ClientHello whose session id is a live session's App-ID, and only up to
 * MAX_HANDSHAKES at once, each bounded by HANDSHAKE_TIMEOUT_S. wolfSSL's
 * HelloVerifyRequest cookie exchange stays on; its cookie is computed by
 * cookie_cb from the peer address and a per-process secret, since with
 * custom I/O wolfSSL cannot find the peer itself. */
#include "dtls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "dtls_hello.h"
#include "hashmap.h"
#include "log.h"

#define MAX_HANDSHAKES 1024
#define HANDSHAKE_TIMEOUT_S 10
#define RECV_BURST 64
#define MAX_RECORD 16384

/* A peer's address as a fixed-size hash key (IPv4 as v4-mapped IPv6). */
struct peer_key {
	uint8_t addr[16];
	uint16_t port;
} __attribute__((packed));

struct wg_dtls_link {
	struct wg_dtls_server *srv;
	WOLFSSL *ssl;                 /* owned */
	struct peer_key key;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	char peer_text[64];
	void *session;                /* the core's session (borrowed) */
	uint8_t psk[WG_DTLS_PSK_LEN];
	bool up;
	struct event *timer;          /* handshake retransmit / deadline */
	time_t started;
	const uint8_t *in;            /* the datagram being fed to wolfSSL */
	size_t in_len;
};

struct wg_dtls_server {
	struct event_base *base;
	int fd;
	struct event *ev;
	WOLFSSL_CTX *ctx;
	struct wg_hashmap *links;      /* peer_key -> link */
	unsigned handshakes;
	struct wg_dtls_callbacks cb;
	void *arg;
	uint8_t cookie_secret[32];
	uint8_t rx[MAX_RECORD + 512];  /* one datagram */
	uint8_t tx[MAX_RECORD + 1];    /* one record's plaintext */
};

static pthread_once_t wolfssl_once = PTHREAD_ONCE_INIT;

static void wolfssl_init_once(void)
{
	wolfSSL_Init();
}

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

static void peer_text(const struct sockaddr *sa, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
		snprintf(out, len, "%s:%d", host, port);
	} else {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof(host));
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
		snprintf(out, len, "[%s]:%d", host, port);
	}
}

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct wg_dtls_link *l = ctx;

	(void)ssl;
	if (!l->in)
		return WOLFSSL_CBIO_ERR_WANT_READ;
	/* A datagram is read whole or not at all. */
	size_t n = l->in_len < (size_t)sz ? l->in_len : (size_t)sz;
	memcpy(buf, l->in, n);
	l->in = NULL;
	l->in_len = 0;
	return (int)n;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct wg_dtls_link *l = ctx;
	ssize_t n;

	(void)ssl;
	n = sendto(l->srv->fd, buf, (size_t)sz, 0, (struct sockaddr *)&l->peer, l->peer_len);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
		return WOLFSSL_CBIO_ERR_GENERAL;
	return sz; /* a full socket buffer drops the datagram, as the network may */
}

static int cookie_cb(WOLFSSL *ssl, unsigned char *buf, int sz, void *ctx)
{
	struct wg_dtls_link *l = ctx;
	uint8_t digest[WC_SHA256_DIGEST_SIZE];
	wc_Sha256 sha;

	(void)ssl;
	if (sz < (int)sizeof(digest))
		return -1;
	if (wc_InitSha256(&sha) != 0)
		return -1;
	wc_Sha256Update(&sha, l->srv->cookie_secret, sizeof(l->srv->cookie_secret));
	wc_Sha256Update(&sha, (const byte *)&l->key, sizeof(l->key));
	wc_Sha256Final(&sha, digest);
	wc_Sha256Free(&sha);
	memcpy(buf, digest, sizeof(digest));
	return (int)sizeof(digest);
}

static unsigned int psk_cb(WOLFSSL *ssl, const char *identity, unsigned char *key, unsigned int max_len)
{
	struct wg_dtls_link *l = wolfSSL_GetIOReadCtx(ssl);

	(void)identity; /* openconnect's identity is fixed; the key is what binds */
	if (!l || max_len < WG_DTLS_PSK_LEN)
		return 0;
	memcpy(key, l->psk, WG_DTLS_PSK_LEN);
	return WG_DTLS_PSK_LEN;
}

static void link_free(struct wg_dtls_link *l)
{
	struct wg_dtls_server *srv = l->srv;

	if (wg_hashmap_get(srv->links, &l->key) == l)
		wg_hashmap_del(srv->links, &l->key);
	if (!l->up)
		srv->handshakes--;
	if (l->timer)
		event_free(l->timer);
	if (l->ssl)
		wolfSSL_free(l->ssl);
	explicit_bzero(l->psk, sizeof(l->psk));
	free(l);
}

/* The link dies from the network side: tell the core, then free. */
static void link_lost(struct wg_dtls_link *l, const char *why)
{
	wg_log(NULL, WG_LOG_DEBUG, "DTLS %s: %s", l->peer_text, why);
	if (l->up && l->srv->cb.on_closed)
		l->srv->cb.on_closed(l->srv->arg, l->session, l);
	link_free(l);
}

static void arm_timer(struct wg_dtls_link *l)
{
	int t = wolfSSL_dtls_get_current_timeout(l->ssl);
	struct timeval tv = {.tv_sec = t > 0 ? t : 1};

	evtimer_add(l->timer, &tv);
}

static void handshake_timer(evutil_socket_t fd, short what, void *arg)
{
	struct wg_dtls_link *l = arg;

	(void)fd;
	(void)what;
	if (l->up)
		return;
	if (time(NULL) - l->started >= HANDSHAKE_TIMEOUT_S) {
		link_lost(l, "handshake timed out");
		return;
	}
	if (wolfSSL_dtls_got_timeout(l->ssl) != WOLFSSL_SUCCESS) {
		link_lost(l, "handshake failed on retransmit");
		return;
	}
	arm_timer(l);
}

static struct wg_dtls_link *link_new(struct wg_dtls_server *srv, const struct sockaddr *sa, socklen_t salen,
				     const struct peer_key *key, void *session, const uint8_t psk[WG_DTLS_PSK_LEN])
{
	struct wg_dtls_link *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->srv = srv;
	l->key = *key;
	memcpy(&l->peer, sa, salen);
	l->peer_len = salen;
	peer_text(sa, l->peer_text, sizeof(l->peer_text));
	l->session = session;
	memcpy(l->psk, psk, WG_DTLS_PSK_LEN);
	l->started = time(NULL);
	srv->handshakes++;
	l->timer = evtimer_new(srv->base, handshake_timer, l);
	l->ssl = wolfSSL_new(srv->ctx);
	if (!l->timer || !l->ssl || wg_hashmap_put(srv->links, key, l) < 0) {
		link_free(l);
		return NULL;
	}
	wolfSSL_SetIOReadCtx(l->ssl, l);
	wolfSSL_SetIOWriteCtx(l->ssl, l);
	wolfSSL_SetCookieCtx(l->ssl, l);
	wolfSSL_dtls_set_using_nonblock(l->ssl, 1);
	return l;
}

static void handle_handshake(struct wg_dtls_link *l)
{
	int r = wolfSSL_accept(l->ssl);

	if (r == WOLFSSL_SUCCESS) {
		l->up = true;
		l->srv->handshakes--;
		evtimer_del(l->timer);
		wg_log(NULL, WG_LOG_DEBUG, "DTLS %s: %s %s established", l->peer_text, wolfSSL_get_version(l->ssl),
		       wolfSSL_get_cipher(l->ssl));
		if (l->srv->cb.on_up)
			l->srv->cb.on_up(l->srv->arg, l->session, l);
		return;
	}
	int e = wolfSSL_get_error(l->ssl, r);
	if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE) {
		arm_timer(l);
		return;
	}
	char buf[WOLFSSL_MAX_ERROR_SZ];
	link_lost(l, wolfSSL_ERR_error_string((unsigned long)e, buf));
}

static void handle_records(struct wg_dtls_link *l)
{
	struct wg_dtls_server *srv = l->srv;
	uint8_t rec[MAX_RECORD + 1];

	for (;;) {
		int n = wolfSSL_read(l->ssl, rec, sizeof(rec));
		if (n > 0) {
			uint8_t type = rec[0];
			if (type == 0x03) { /* DPD-REQ: echo as DPD-RESP, payload unchanged */
				rec[0] = 0x04;
				wolfSSL_write(l->ssl, rec, n);
			} else if ((type == 0x00 || type == 0x05) && srv->cb.on_packet) {
				srv->cb.on_packet(srv->arg, l->session, type, rec + 1, (size_t)n - 1);
				if (wg_hashmap_get(srv->links, &l->key) != l)
					return; /* the core closed the link */
			}
			continue;
		}
		int e = wolfSSL_get_error(l->ssl, n);
		if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE)
			return;
		if (e == WOLFSSL_ERROR_ZERO_RETURN) {
			link_lost(l, "peer sent close_notify");
			return;
		}
		/* A bad record (replay, bad MAC) is dropped by wolfSSL without
		 * error in DTLS; anything else ends the link. */
		char buf[WOLFSSL_MAX_ERROR_SZ];
		link_lost(l, wolfSSL_ERR_error_string((unsigned long)e, buf));
		return;
	}
}

static void new_peer(struct wg_dtls_server *srv, const uint8_t *pkt, size_t len, const struct sockaddr *sa,
		     socklen_t salen, const struct peer_key *key)
{
	uint8_t sid[WG_DTLS_SESSION_ID_MAX], psk[WG_DTLS_PSK_LEN];
	size_t sid_len;
	void *session;
	struct wg_dtls_link *l;

	if (wg_dtls_hello_session_id(pkt, len, sid, &sid_len) < 0 || sid_len != WG_DTLS_APP_ID_LEN)
		return; /* not a ClientHello for us: stay silent */
	if (srv->handshakes >= MAX_HANDSHAKES)
		return;
	session = srv->cb.lookup(srv->arg, sid, sid_len, psk);
	if (!session) {
		char who[64];
		peer_text(sa, who, sizeof(who));
		wg_log(NULL, WG_LOG_DEBUG, "DTLS %s: ClientHello for no live session; ignored", who);
		return;
	}
	l = link_new(srv, sa, salen, key, session, psk);
	explicit_bzero(psk, sizeof(psk));
	if (!l) {
		wg_log(NULL, WG_LOG_WARN, "DTLS: cannot create a handshake state (out of memory?)");
		return;
	}
	l->in = pkt;
	l->in_len = len;
	handle_handshake(l);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct wg_dtls_server *srv = arg;

	(void)what;
	for (int i = 0; i < RECV_BURST; i++) {
		struct sockaddr_storage ss;
		socklen_t salen = sizeof(ss);
		ssize_t n = recvfrom(fd, srv->rx, sizeof(srv->rx), 0, (struct sockaddr *)&ss, &salen);
		struct peer_key key;
		struct wg_dtls_link *l;

		if (n < 0)
			return;
		if (n == 0)
			continue;
		make_key((struct sockaddr *)&ss, &key);
		l = wg_hashmap_get(srv->links, &key);
		if (l && l->up) {
			uint8_t sid[WG_DTLS_SESSION_ID_MAX];
			size_t sid_len;
			if (wg_dtls_hello_session_id(srv->rx, (size_t)n, sid, &sid_len) == 0) {
				/* The client started over from the same port. */
				link_lost(l, "new handshake from the same address");
				l = NULL;
			}
		}
		if (!l) {
			new_peer(srv, srv->rx, (size_t)n, (struct sockaddr *)&ss, salen, &key);
			continue;
		}
		l->in = srv->rx;
		l->in_len = (size_t)n;
		if (l->up)
			handle_records(l);
		else
			handle_handshake(l);
		/* l may be gone here; its fields are not touched again. */
	}
}

struct wg_dtls_server *wg_dtls_server_new(struct event_base *base, const struct sockaddr *addr, socklen_t addrlen,
					  const struct wg_dtls_callbacks *cb, void *arg)
{
	struct wg_dtls_server *srv;
	int one = 1;
	static const char suites[] = "PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256:PSK-CHACHA20-POLY1305:"
				     "ECDHE-PSK-AES128-CBC-SHA256:PSK-AES256-CBC-SHA384:PSK-AES128-CBC-SHA256";

	pthread_once(&wolfssl_once, wolfssl_init_once);
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return NULL;
	srv->base = base;
	srv->cb = *cb;
	srv->arg = arg;
	srv->fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	srv->links = wg_hashmap_new(sizeof(struct peer_key));
	srv->ctx = wolfSSL_CTX_new(wolfDTLSv1_2_server_method());
	if (srv->fd < 0 || !srv->links || !srv->ctx || getrandom(srv->cookie_secret, sizeof(srv->cookie_secret), 0) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "DTLS: cannot set up: %s", strerror(errno));
		goto fail;
	}
	setsockopt(srv->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int bufsz = 4 << 20;
	setsockopt(srv->fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(srv->fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	if (bind(srv->fd, addr, addrlen) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "DTLS: cannot bind the UDP port: %s", strerror(errno));
		goto fail;
	}
	if (wolfSSL_CTX_set_cipher_list(srv->ctx, suites) != WOLFSSL_SUCCESS) {
		wg_log(NULL, WG_LOG_ERROR, "DTLS: this wolfSSL has none of the PSK suites %s", suites);
		goto fail;
	}
	/* Set on the context: without it (and without a certificate) wolfSSL
	 * refuses to create server objects at all. */
	wolfSSL_CTX_set_psk_server_callback(srv->ctx, psk_cb);
	wolfSSL_CTX_SetIORecv(srv->ctx, io_recv);
	wolfSSL_CTX_SetIOSend(srv->ctx, io_send);
	wolfSSL_CTX_SetGenCookie(srv->ctx, cookie_cb);
	srv->ev = event_new(base, srv->fd, EV_READ | EV_PERSIST, on_readable, srv);
	if (!srv->ev || event_add(srv->ev, NULL) < 0)
		goto fail;
	return srv;
fail:
	wg_dtls_server_free(srv);
	return NULL;
}

static void collect(const void *key, void *value, void *arg)
{
	struct wg_dtls_link ***cursor = arg;

	(void)key;
	*(*cursor)++ = value;
}

void wg_dtls_server_free(struct wg_dtls_server *srv)
{
	if (!srv)
		return;
	if (srv->links) {
		size_t n = wg_hashmap_count(srv->links);
		struct wg_dtls_link **all = calloc(n + 1, sizeof(*all)), **cursor = all;
		if (all) {
			wg_hashmap_foreach(srv->links, collect, &cursor);
			for (size_t i = 0; i < n; i++)
				link_free(all[i]);
			free(all);
		}
		wg_hashmap_free(srv->links);
	}
	if (srv->ev)
		event_free(srv->ev);
	if (srv->ctx)
		wolfSSL_CTX_free(srv->ctx);
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

int wg_dtls_send(struct wg_dtls_link *l, uint8_t type, const uint8_t *payload, size_t len)
{
	uint8_t *buf = l->srv->tx;

	if (!l->up || len > MAX_RECORD)
		return -1;
	buf[0] = type;
	memcpy(buf + 1, payload, len);
	return wolfSSL_write(l->ssl, buf, (int)len + 1) > 0 ? 0 : -1;
}

void wg_dtls_link_close(struct wg_dtls_link *l)
{
	if (!l)
		return;
	if (l->up)
		wolfSSL_shutdown(l->ssl); /* close_notify, best effort */
	link_free(l);
}

const char *wg_dtls_link_peer(const struct wg_dtls_link *l)
{
	return l->peer_text;
}
