/* A client's TCP connection: TLS handshake, HTTP requests, then CSTP.
 *
 * wolfSSL reads the nonblocking socket itself, but writes through
 * conn_io_send(): what the socket does not take at once is kept, as
 * ciphertext, in c->out and written when the socket is writable. wolfSSL
 * therefore never holds unsent output and never answers WANT_WRITE, which
 * keeps its retry-with-the-same-bytes rule (easy to break when reads and
 * writes interleave) out of the picture. Back-pressure is the length of
 * c->out: past MAX_BACKLOG, data packets are dropped as a full queue would.
 *
 * A connection is never freed inside one of its own callbacks' callees:
 * wg_conn_close() marks it CLOSING, tells its owner (h->closed), and the
 * memory is released from a zero-delay event. */
#include "net/conn.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/addr_count.h"
#include "net/client_key.h"
#include "net/conn_proxy.h"
#include "net/conn_sni.h"
#include "net/sni.h"
#include "net/http_parser.h"
#include "net/http_pipe.h"
#include "util/log.h"
#include "server.h"

#define READ_CHUNK 16384
/* Per wakeup at most READ_BURST records or READ_BURST_BYTES of plaintext,
 * so one client cannot starve others. */
#define READ_BURST 64
#define READ_BURST_BYTES (256u << 10)
#define READ_AHEAD (64u << 10)        /* one recv for many tunnel records */
#define WRITE_CHUNK 16384             /* one TLS record at most */
#define MAX_BACKLOG WG_CONN_MAX_BACKLOG
#define HANDSHAKE_TIMEOUT_S 20
#define CSTP_MAX_FRAME (8 + 16384)
/* After a last answer (an error, a refusal), what the client still sends is
 * read and dropped this long or up to this much before the socket closes:
 * closing with unread bytes makes the kernel reset the connection, and the
 * client may then lose the answer itself (it did, in the pipelined-flood
 * test: 9 of 129 answers arrived). */
#define LINGER_S 2
#define LINGER_MAX_BYTES (256u << 10)

struct conn_priv {
	struct wg_conn pub;
	/* HTTP phase: every decrypted byte, queued in arrival order and taken
	 * by conn_http_pump one request at a time (http_pipe.h). */
	struct wg_http_pipe pipe;
	uint8_t client_key[WG_CLIENT_KEY_LEN]; /* the peer as a client (its share of max-unauthenticated) */
	bool addr_counted;            /* client_key holds a share of max-unauthenticated-per-address */
	struct event *linger;         /* owned: drains the socket after the last answer */
	size_t lingered;              /* bytes dropped so far */
};

static void conn_on_read(evutil_socket_t fd, short what, void *arg);
static void conn_on_write(evutil_socket_t fd, short what, void *arg);
static void conn_on_timeout(evutil_socket_t fd, short what, void *arg);
static void conn_read_tls(struct wg_conn *c);
static int conn_flush(struct wg_conn *c);
static void conn_close(struct wg_conn *c, const char *reason, bool lingering);

static struct conn_priv *priv(struct wg_conn *c)
{
	return (struct conn_priv *)c;
}

/* c no longer counts against max-unauthenticated (it tunnels, or it closed). */
static void conn_logged_in(struct wg_conn *c)
{
	if (!c->counted_unauth)
		return;
	c->counted_unauth = false;
	c->srv->n_conns_unauth--;
	if (priv(c)->addr_counted)
		wg_addr_count_sub(c->srv->unauth_by_addr, priv(c)->client_key);
}

static void peer_to_text(const struct sockaddr *sa, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof(host));
	snprintf(out, len, "%s", host);
}

/* wolfSSL's output: straight to the socket, the rest queued in c->out. */
static int conn_io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct wg_conn *c = ctx;
	ssize_t n = 0;

	(void)ssl;
	if (evbuffer_get_length(c->out) == 0 && !c->corked) {
		n = send(c->fd, buf, (size_t)sz, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				return errno == EPIPE || errno == ECONNRESET ? WOLFSSL_CBIO_ERR_CONN_RST
									     : WOLFSSL_CBIO_ERR_GENERAL;
			n = 0;
		}
		if (n == sz)
			return sz;
	}
	if (evbuffer_add(c->out, buf + n, (size_t)(sz - n)) < 0)
		return WOLFSSL_CBIO_ERR_GENERAL;
	if (!c->corked)
		event_add(c->wev, NULL);
	return sz;
}

/* Read-ahead for tunnel connections. wolfSSL reads a record in two recv
 * calls (header, then body) and openconnect sends one record per packet,
 * so a CSTP upload cost two system calls per ~1400-byte packet. In the
 * CSTP phase wolfSSL reads instead from this buffer, filled with one recv
 * of up to 64 KB: one buffer per event loop (thread), lent to one
 * connection at a time. When a read burst ends, what the connection has
 * not consumed moves to its own exact-size rx_stash (rx_ahead_release),
 * so nothing read from the socket waits unseen by the event loop. */
static _Thread_local struct {
	struct wg_conn *owner;
	size_t off, len;
	uint8_t buf[READ_AHEAD];
} rx_ahead;

static int rx_ahead_release(struct wg_conn *c)
{
	size_t left;
	uint8_t *stash;

	if (rx_ahead.owner != c)
		return 0;
	rx_ahead.owner = NULL;
	left = rx_ahead.len - rx_ahead.off;
	if (left == 0 || c->state == WG_CONN_CLOSING)
		return 0;
	/* io_recv serves the stash before the shared buffer, so it is
	 * empty whenever the shared buffer is filled for c. */
	stash = malloc(left);
	if (!stash)
		return -1;
	memcpy(stash, rx_ahead.buf + rx_ahead.off, left);
	free(c->rx_stash);
	c->rx_stash = stash;
	c->rx_stash_off = 0;
	c->rx_stash_len = left;
	return 0;
}

static int recv_error(void)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return WOLFSSL_CBIO_ERR_WANT_READ;
	if (errno == EINTR)
		return WOLFSSL_CBIO_ERR_ISR;
	if (errno == ECONNRESET)
		return WOLFSSL_CBIO_ERR_CONN_RST;
	return WOLFSSL_CBIO_ERR_GENERAL;
}

static int conn_io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct wg_conn *c = ctx;
	size_t n;
	ssize_t r;

	(void)ssl;
	if (sz <= 0)
		return 0;
	if (c->rx_stash) {
		n = c->rx_stash_len - c->rx_stash_off;
		n = n < (size_t)sz ? n : (size_t)sz;
		memcpy(buf, c->rx_stash + c->rx_stash_off, n);
		c->rx_stash_off += n;
		if (c->rx_stash_off == c->rx_stash_len) {
			free(c->rx_stash);
			c->rx_stash = NULL;
		}
		return (int)n;
	}
	if (c->state != WG_CONN_CSTP) {
		/* Handshake and HTTP: as wolfSSL's own callback would. */
		r = recv(c->fd, buf, (size_t)sz, 0);
		if (r > 0)
			return (int)r;
		return r == 0 ? WOLFSSL_CBIO_ERR_CONN_CLOSE : recv_error();
	}
	if (rx_ahead.owner != c) {
		if (rx_ahead.owner && rx_ahead_release(rx_ahead.owner) < 0)
			wg_conn_close(rx_ahead.owner, "out of memory");
		rx_ahead.owner = c;
		rx_ahead.off = rx_ahead.len = 0;
	}
	if (rx_ahead.off == rx_ahead.len) {
		r = recv(c->fd, rx_ahead.buf, sizeof(rx_ahead.buf), 0);
		if (r <= 0) {
			rx_ahead.owner = NULL;
			return r == 0 ? WOLFSSL_CBIO_ERR_CONN_CLOSE : recv_error();
		}
		rx_ahead.off = 0;
		rx_ahead.len = (size_t)r;
	}
	n = rx_ahead.len - rx_ahead.off;
	n = n < (size_t)sz ? n : (size_t)sz;
	memcpy(buf, rx_ahead.buf + rx_ahead.off, n);
	rx_ahead.off += n;
	return (int)n;
}

static void timer_set(struct wg_conn *c, unsigned seconds)
{
	struct timeval tv = {.tv_sec = seconds};

	evtimer_add(c->timer, &tv);
}

static int conn_admit_relayed(struct wg_conn *c);

/* listen-proxy-proto: reads towards the relay's header. 1 once it is read
 * (c->peer is the client's; bytes past it wait in rx_stash for the TLS
 * handshake, served by conn_io_recv before the socket), 0 while more is
 * needed, -1 after closing c. */
static int conn_read_proxy(struct wg_conn *c)
{
	struct wg_proxy_done done;
	const char *why = NULL;
	int r = wg_conn_proxy_read(&c->proxy, c->fd, c->peer, sizeof(c->peer), &done, &why);

	if (r < 0)
		wg_conn_close(c, why);
	if (r <= 0)
		return r;
	c->rx_stash = done.rest;
	c->rx_stash_off = 0;
	c->rx_stash_len = done.rest_len;
	c->awaiting_proxy = false;
	return 1;
}

/* The connection's TLS object, on ctx, reading and writing through c. */
static int conn_ssl_setup(struct wg_conn *c, WOLFSSL_CTX *ctx)
{
	c->ssl = wolfSSL_new(ctx);
	if (!c->ssl || wolfSSL_set_fd(c->ssl, c->fd) != WOLFSSL_SUCCESS)
		return -1;
	wolfSSL_SSLSetIOSend(c->ssl, conn_io_send);
	wolfSSL_SetIOWriteCtx(c->ssl, c);
	wolfSSL_SSLSetIORecv(c->ssl, conn_io_recv);
	wolfSSL_SetIOReadCtx(c->ssl, c);
	/* The DTLS key is exported from the handshake's secrets at CONNECT;
	 * wolfSSL frees them after the handshake unless told to keep them. */
	wolfSSL_KeepArrays(c->ssl);
	return 0;
}

/* Several server names: the ClientHello's picks the TLS context. 1 when
 * c->ssl exists, 0 when more bytes must come, -1 when closed. */
static int conn_choose_tls(struct wg_conn *c)
{
	char name[WG_SNI_NAME_MAX + 1];
	struct wg_sni_stash stash = {&c->rx_stash, &c->rx_stash_off, &c->rx_stash_len};
	const char *why = NULL;
	int r = wg_sni_read(&c->sni, c->fd, stash, name, sizeof(name), &why);
	WOLFSSL_CTX *ctx;

	if (r < 0)
		wg_conn_close(c, why);
	if (r <= 0)
		return r;
	c->awaiting_sni = false;
	if (!(ctx = c->h->tls_for_name(c, name[0] ? name : NULL))) {
		wg_sni_refuse(c->fd, c->peer, name);
		wg_conn_close(c, "unknown server name");
		return -1;
	}
	if (conn_ssl_setup(c, ctx) < 0) {
		wg_conn_close(c, "out of memory");
		return -1;
	}
	return 1;
}

static void conn_handshake(struct wg_conn *c)
{
	if (c->awaiting_proxy) {
		if (conn_read_proxy(c) <= 0 || conn_admit_relayed(c) < 0)
			return;
	} else if (!c->srv->proxy_proto && !c->proxy_checked) {
		const char *why = NULL;
		int seen = wg_conn_proxy_unexpected(c->fd, c->peer, &why);
		if (seen < 0) {
			wg_conn_close(c, why);
			return;
		}
		c->proxy_checked = seen > 0;
	}
	if (c->awaiting_sni && conn_choose_tls(c) <= 0)
		return;
	int r = wolfSSL_accept(c->ssl);

	if (r == WOLFSSL_SUCCESS) {
		c->state = WG_CONN_HTTP;
		timer_set(c, c->srv->auth_timeout);
		wg_log(NULL, WG_LOG_DEBUG, "%s: TLS %s %s established", c->peer, wolfSSL_get_version(c->ssl),
		       wolfSSL_get_cipher(c->ssl));
		conn_read_tls(c);
		return;
	}
	int e = wolfSSL_get_error(c->ssl, r);
	if (e == WOLFSSL_ERROR_WANT_READ)
		return;
	if (e == WOLFSSL_ERROR_WANT_WRITE) {
		event_add(c->wev, NULL);
		return;
	}
	char buf[WOLFSSL_MAX_ERROR_SZ];
	wg_conn_close(c, wolfSSL_ERR_error_string((unsigned long)e, buf));
}

/* The per-client share of pre-login slots: one client may not hold every
 * one, or it would keep everybody else from logging in and from
 * reconnecting. 0 with key set and counted, or -1 (refused, said). */
static int conn_take_addr_slot(struct wg_server *srv, const char *peer, uint8_t key[WG_CLIENT_KEY_LEN])
{
	if (wg_client_key(peer, srv->prefix6_client, key, NULL) < 0 ||
	    wg_addr_count_get(srv->unauth_by_addr, key) >= srv->max_unauth_per_addr) {
		static time_t said;
		time_t now = time(NULL);
		if (now != said) { /* at most a line a second: the refusals are the flood */
			said = now;
			wg_log(NULL, WG_LOG_WARN, "%s: refused: %u of its connections have not logged in yet "
			       "(max-unauthenticated-per-address)", peer, wg_addr_count_get(srv->unauth_by_addr, key));
		}
		return -1;
	}
	return wg_addr_count_add(srv->unauth_by_addr, key);
}

/* Behind a relay (listen-proxy-proto), the checks the listener and
 * wg_conn_accept make on the socket's address are made here, on the
 * client's address from the header: the owner's admission (the ban list),
 * then the per-address share. */
static int conn_admit_relayed(struct wg_conn *c)
{
	const char *why = c->h->admit ? c->h->admit(c) : NULL;

	if (why) {
		wg_conn_close(c, why);
		return -1;
	}
	if (conn_take_addr_slot(c->srv, c->peer, priv(c)->client_key) < 0) {
		wg_conn_close(c, "max-unauthenticated-per-address");
		return -1;
	}
	priv(c)->addr_counted = true;
	return 0;
}

void wg_conn_accept(struct wg_server *srv, int fd, const struct sockaddr *sa, socklen_t salen,
		    const struct wg_conn_handlers *h)
{
	struct conn_priv *p;
	struct wg_conn *c;
	int one = 1;
	char peer[64];
	uint8_t key[WG_CLIENT_KEY_LEN] = {0};
	bool relayed = srv->proxy_proto;
	/* With vhosts the TLS context waits for the ClientHello's name. */
	bool by_name = srv->vhosts_on && h->tls_for_name;

	(void)salen;
	peer_to_text(sa, peer, sizeof(peer));
	if (srv->n_conns_unauth >= srv->max_unauth) {
		wg_log(NULL, WG_LOG_WARN, "%s: refused: %u connections have not logged in yet (max-unauthenticated)",
		       peer, srv->n_conns_unauth);
		close(fd);
		return;
	}
	if (!relayed && conn_take_addr_slot(srv, peer, key) < 0) {
		close(fd);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		if (!relayed)
			wg_addr_count_sub(srv->unauth_by_addr, key);
		close(fd);
		return;
	}
	c = &p->pub;
	memcpy(p->client_key, key, sizeof(key));
	p->addr_counted = !relayed;
	c->awaiting_proxy = relayed;
	c->awaiting_sni = by_name;
	c->srv = srv;
	c->h = h;
	c->fd = fd;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->rev = event_new(srv->base, fd, EV_READ | EV_PERSIST, conn_on_read, c);
	c->wev = event_new(srv->base, fd, EV_WRITE, conn_on_write, c);
	c->timer = evtimer_new(srv->base, conn_on_timeout, c);
	c->out = evbuffer_new();
	wg_http_pipe_init(&p->pipe);
	c->http = wg_http_parser_new();
	c->state = WG_CONN_TLS;
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	c->counted_unauth = true;
	srv->n_conns_unauth++;
	if (!c->rev || !c->wev || !c->timer || !c->out || !c->http || (!by_name && conn_ssl_setup(c, srv->tls) < 0)) {
		wg_conn_close(c, "out of memory");
		return;
	}
	event_add(c->rev, NULL);
	/* auth-timeout bounds the whole pre-login life, so a connection that
	 * never finishes (or never starts) its handshake is not kept longer. */
	timer_set(c, srv->auth_timeout < HANDSHAKE_TIMEOUT_S ? srv->auth_timeout : HANDSHAKE_TIMEOUT_S);
	conn_handshake(c);
}

static void conn_free_cb(evutil_socket_t fd, short what, void *arg)
{
	struct wg_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->prev)
		c->prev->next = c->next;
	else if (c->srv->conns == c)
		c->srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->rev)
		event_free(c->rev);
	if (c->wev)
		event_free(c->wev);
	if (c->timer)
		event_free(c->timer);
	if (priv(c)->linger)
		event_free(priv(c)->linger);
	if (c->ssl)
		wolfSSL_free(c->ssl);
	close(c->fd);
	if (c->out)
		evbuffer_free(c->out);
	wg_http_pipe_fini(&priv(c)->pipe);
	wg_http_parser_free(c->http);
	if (rx_ahead.owner == c)
		rx_ahead.owner = NULL;
	free(c->rx_stash);
	wg_conn_proxy_reader_free(&c->proxy);
	wg_sni_reader_free(&c->sni);
	free(c->server_name);
	free(c->in);
	free(c);
}

/* The end of a lingering close: the connection goes as any other. */
static void conn_linger_done(struct wg_conn *c)
{
	event_del(priv(c)->linger);
	conn_logged_in(c);
	event_base_once(c->srv->base, -1, EV_TIMEOUT, conn_free_cb, c, NULL);
}

static void conn_on_linger(evutil_socket_t fd, short what, void *arg)
{
	struct wg_conn *c = arg;
	char buf[4096];
	ssize_t n = 0;

	if (what & EV_TIMEOUT) {
		conn_linger_done(c);
		return;
	}
	while (priv(c)->lingered < LINGER_MAX_BYTES && (n = recv(fd, buf, sizeof(buf), 0)) > 0)
		priv(c)->lingered += (size_t)n;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	conn_linger_done(c); /* the client closed, an error, or enough dropped */
}

/* Closes c after its last answer has been written: our side of the TCP
 * connection is shut, and what the client still sends is read and dropped
 * (LINGER_S, LINGER_MAX_BYTES) so that the answer is not lost to a reset.
 * It keeps counting against max-unauthenticated until the socket closes. */
static void conn_close_lingering(struct wg_conn *c, const char *reason)
{
	struct timeval tv = {.tv_sec = LINGER_S};

	if (c->state != WG_CONN_HTTP) {
		wg_conn_close(c, reason);
		return;
	}
	priv(c)->linger = event_new(c->srv->base, c->fd, EV_READ | EV_PERSIST, conn_on_linger, c);
	if (!priv(c)->linger) {
		wg_conn_close(c, reason);
		return;
	}
	conn_close(c, reason, true);
	if (c->ssl)
		wolfSSL_shutdown(c->ssl); /* close_notify, while the socket still writes */
	shutdown(c->fd, SHUT_WR);
	event_add(priv(c)->linger, &tv);
}

void wg_conn_close(struct wg_conn *c, const char *reason)
{
	if (c->state == WG_CONN_CLOSING)
		return;
	conn_close(c, reason, false);
	if (c->ssl)
		wolfSSL_shutdown(c->ssl); /* best effort close_notify; never waits */
	/* Freed later: callers up the stack may still hold c. If the loop has
	 * stopped, wg_conn_free_all() collects it. */
	event_base_once(c->srv->base, -1, EV_TIMEOUT, conn_free_cb, c, NULL);
}

/* Everything of a close but the freeing: c is CLOSING, detached from its
 * login and session, and no longer read, written or timed. */
static void conn_close(struct wg_conn *c, const char *reason, bool lingering)
{
	/* In the stream phase the owner is a session: log lines name it. */
	const void *sess = c->state == WG_CONN_CSTP ? c->owner : NULL;

	c->state = WG_CONN_CLOSING;
	wg_log(sess, sess ? WG_LOG_INFO : WG_LOG_DEBUG, "%s: connection closed: %s", c->peer, reason);
	if (c->h->closed)
		c->h->closed(c, false);
	if (!lingering)
		conn_logged_in(c);
	if (c->rev)
		event_del(c->rev);
	if (c->wev)
		event_del(c->wev);
	if (c->timer)
		evtimer_del(c->timer);
}

void wg_conn_free_all(struct wg_server *srv)
{
	while (srv->conns) {
		struct wg_conn *c = srv->conns;
		if (c->state != WG_CONN_CLOSING) {
			c->state = WG_CONN_CLOSING;
			if (c->h->closed)
				c->h->closed(c, true);
		}
		conn_free_cb(-1, 0, c);
	}
}

void wg_conn_cork(struct wg_conn *c)
{
	if (c->state != WG_CONN_CLOSING)
		c->corked = true;
}

void wg_conn_uncork(struct wg_conn *c)
{
	if (!c->corked)
		return;
	c->corked = false;
	if (c->state != WG_CONN_CLOSING && evbuffer_get_length(c->out) > 0)
		conn_flush(c);
}

size_t wg_conn_backlog(const struct wg_conn *c)
{
	return evbuffer_get_length(c->out);
}

/* Encrypts plaintext into records; conn_io_send takes the ciphertext. */
static int conn_write_plain(struct wg_conn *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		int chunk = len > WRITE_CHUNK ? WRITE_CHUNK : (int)len;
		int n = wolfSSL_write(c->ssl, p, chunk);
		if (n <= 0) {
			char buf[WOLFSSL_MAX_ERROR_SZ];
			wg_conn_close(c, wolfSSL_ERR_error_string((unsigned long)wolfSSL_get_error(c->ssl, n), buf));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int wg_conn_send(struct wg_conn *c, const void *data, size_t len)
{
	if (c->state == WG_CONN_CLOSING || c->state == WG_CONN_TLS)
		return -1;
	if (evbuffer_get_length(c->out) > MAX_BACKLOG)
		return -1; /* the client is not reading; drop like a full queue */
	return conn_write_plain(c, data, len);
}

/* The socket is writable: move queued ciphertext out. */
static int conn_flush(struct wg_conn *c)
{
	while (evbuffer_get_length(c->out) > 0) {
		int n = evbuffer_write(c->out, c->fd);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				event_add(c->wev, NULL);
				return 0;
			}
			wg_conn_close(c, "connection lost while sending");
			return -1;
		}
		if (n == 0)
			break;
	}
	if (evbuffer_get_length(c->out) > 0) {
		event_add(c->wev, NULL);
		return 0;
	}
	if (c->close_after_flush) {
		conn_close_lingering(c, "response sent");
		return -1;
	}
	return 0;
}

int wg_conn_http_reply(struct wg_conn *c, const char *status, const char *content_type, const char *headers,
		       const char *body, size_t body_len)
{
	char head[2048];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\n"
			 "Server: wolfguard\r\n"
			 "Cache-Control: no-store\r\n"
			 "X-Frame-Options: deny\r\n"
			 "%s%s%s"
			 "Content-Length: %zu\r\n"
			 "%s"
			 "\r\n",
			 status, content_type ? "Content-Type: " : "", content_type ? content_type : "",
			 content_type ? "\r\n" : "", body_len, c->close_after_flush ? "Connection: close\r\n" : "");

	if (n < 0 || (size_t)n >= sizeof(head) || c->state == WG_CONN_CLOSING)
		return -1;
	/* Extra headers go before the blank line: splice them in. */
	if (conn_write_plain(c, head, (size_t)n - 2) < 0 || (headers && conn_write_plain(c, headers, strlen(headers)) < 0) ||
	    conn_write_plain(c, "\r\n", 2) < 0 || (body_len && conn_write_plain(c, body, body_len) < 0))
		return -1;
	return conn_flush(c);
}

int wg_conn_http_reply_bare(struct wg_conn *c, const char *status, const char *date, const char *headers,
			    const char *body, size_t body_len, bool send_body)
{
	char head[1024];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\nDate: %s\r\n%sContent-Type: text/html\r\nContent-Length: %zu\r\n%s\r\n", status,
			 date, headers ? headers : "", body_len, c->close_after_flush ? "Connection: close\r\n" : "");

	if (n < 0 || (size_t)n >= sizeof(head) || c->state == WG_CONN_CLOSING)
		return -1;
	if (conn_write_plain(c, head, (size_t)n) < 0 || (send_body && body_len && conn_write_plain(c, body, body_len) < 0))
		return -1;
	return conn_flush(c);
}

/* A malformed request: its status, then the connection closes. */
/* An error status before any request was routed: under camouflage, to a
 * client that has not shown the secret, in the decoy's plain form. */
static void conn_reply_status(struct wg_conn *c, const char *status)
{
	if (c->srv->camouflage_secret && !c->camouflage_passed) {
		char date[64];
		struct tm tm;
		time_t now = time(NULL);
		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		wg_conn_http_reply_bare(c, status, date, NULL, NULL, 0, false);
		return;
	}
	wg_conn_http_reply(c, status, NULL, NULL, NULL, 0);
}

static void conn_http_bad(struct wg_conn *c)
{
	char status[64];
	int code = wg_http_parser_error_status(c->http);

	wg_log(NULL, WG_LOG_NOTICE, "%s: bad HTTP request: %s", c->peer, wg_http_parser_error(c->http));
	snprintf(status, sizeof(status), "%d %s", code,
		 code == 413 ? "Payload Too Large" : code == 431 ? "Request Header Fields Too Large" : "Bad Request");
	c->close_after_flush = true;
	conn_reply_status(c, status);
}

/* Answers the queued requests in order, one at a time, while none is
 * pending. Called from event callbacks only (a read, or the resume that
 * wg_conn_request_done schedules), never from inside the answer to a
 * request: pipelined requests never nest calls on the stack. */
static void conn_http_pump(struct wg_conn *c)
{
	struct wg_http_pipe *pipe = &priv(c)->pipe;

	while (c->state == WG_CONN_HTTP && !c->busy) {
		if (c->close_after_flush) {
			/* The last answer closes the connection: nothing after
			 * the request it answered is answered. */
			wg_http_pipe_discard(pipe);
			return;
		}
		switch (wg_http_pipe_next(pipe, c->http)) {
		case WG_PIPE_EMPTY:
			return;
		case WG_PIPE_BAD:
			conn_http_bad(c);
			return;
		case WG_PIPE_TOO_MANY:
			wg_log(NULL, WG_LOG_NOTICE, "%s: too many requests on one connection (%u)", c->peer,
			       WG_HTTP_PIPE_MAX_REQUESTS);
			c->close_after_flush = true;
			conn_reply_status(c, "429 Too Many Requests");
			return;
		case WG_PIPE_REQUEST:
			break;
		}
		const struct wg_http_request *req = wg_http_parser_request(c->http);
		if (strcmp(req->method, "CONNECT") == 0) {
			size_t extra_len;
			const uint8_t *extra = wg_http_pipe_rest(pipe, &extra_len);
			c->h->request(c, req, extra, extra_len);
			/* The rest went to the tunnel, unless the CONNECT waits
			 * (cluster adoption): then it is taken when it is answered. */
			if (!c->busy)
				wg_http_pipe_discard(pipe);
			return;
		}
		c->h->request(c, req, NULL, 0);
		/* Answered at once: on to the next. Else wg_conn_request_done
		 * resets the parser and resumes from the loop. */
		if (!c->busy && c->state == WG_CONN_HTTP)
			wg_http_parser_reset(c->http);
	}
}

/* Whole frames are parsed straight from the TLS read buffer; only a frame
 * cut by a record boundary is copied, into a buffer allocated the first time
 * that happens (idle sessions then hold no reassembly memory). */
static int conn_cstp_input(struct wg_conn *c, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		long used;

		if (c->in_len == 0) {
			used = c->h->stream_input(c, buf, len);
			if (used < 0)
				return -1;
			buf += used;
			len -= (size_t)used;
			if (len == 0)
				return 0;
			if (!c->in) {
				c->in = malloc(CSTP_MAX_FRAME);
				if (!c->in) {
					wg_conn_close(c, "out of memory");
					return -1;
				}
				c->in_cap = CSTP_MAX_FRAME;
			}
			if (len > c->in_cap) {
				wg_conn_close(c, "CSTP frame larger than allowed");
				return -1;
			}
			memcpy(c->in, buf, len);
			c->in_len = len;
			return 0;
		}
		size_t take = len < c->in_cap - c->in_len ? len : c->in_cap - c->in_len;
		memcpy(c->in + c->in_len, buf, take);
		c->in_len += take;
		buf += take;
		len -= take;
		used = c->h->stream_input(c, c->in, c->in_len);
		if (used < 0)
			return -1;
		if (used == 0 && c->in_len == c->in_cap) {
			wg_conn_close(c, "CSTP frame larger than allowed");
			return -1;
		}
		memmove(c->in, c->in + used, c->in_len - (size_t)used);
		c->in_len -= (size_t)used;
	}
	return 0;
}

static int conn_input(struct wg_conn *c, const uint8_t *buf, size_t len)
{
	if (c->state == WG_CONN_HTTP) {
		int rc = wg_http_pipe_add(&priv(c)->pipe, buf, len, c->busy);
		if (rc < 0) {
			wg_conn_close(c, rc == -E2BIG ? "too much data sent while a request was being answered"
						      : "out of memory");
			return -1;
		}
		conn_http_pump(c);
		return c->state == WG_CONN_CLOSING ? -1 : 0;
	}
	if (c->state == WG_CONN_CSTP)
		return conn_cstp_input(c, buf, len);
	return -1;
}

static void conn_read_tls_burst(struct wg_conn *c)
{
	uint8_t buf[READ_CHUNK];

	/* Reading goes on while a request is being answered (busy): bytes
	 * that arrive meanwhile wait in the request queue, and a client that
	 * goes away is noticed at once, so its login is cancelled instead of
	 * the read event firing again and again until the answer. */
	size_t bytes = 0;

	/* Requests queued while the last one was answered come first. */
	if (c->state == WG_CONN_HTTP)
		conn_http_pump(c);
	for (int i = 0; i < READ_BURST && bytes < READ_BURST_BYTES; i++) {
		if (c->state == WG_CONN_CLOSING)
			return;
		int n = wolfSSL_read(c->ssl, buf, sizeof(buf));
		if (n > 0) {
			bytes += (size_t)n;
			if (conn_input(c, buf, (size_t)n) < 0)
				return;
			continue;
		}
		int e = wolfSSL_get_error(c->ssl, n);
		if (e == WOLFSSL_ERROR_WANT_READ)
			return;
		if (e == WOLFSSL_ERROR_WANT_WRITE) {
			event_add(c->wev, NULL);
			return;
		}
		if (e == WOLFSSL_ERROR_ZERO_RETURN || e == SOCKET_PEER_CLOSED_E || e == SOCKET_ERROR_E) {
			wg_conn_close(c, "client closed the connection");
			return;
		}
		char ebuf[WOLFSSL_MAX_ERROR_SZ];
		wg_conn_close(c, wolfSSL_ERR_error_string((unsigned long)e, ebuf));
		return;
	}
	/* Burst limit reached: come back after others had their turn. */
	if (wolfSSL_pending(c->ssl) > 0 || (rx_ahead.owner == c && rx_ahead.off < rx_ahead.len) || c->rx_stash)
		event_active(c->rev, EV_READ, 0);
}

static void conn_read_tls(struct wg_conn *c)
{
	struct wg_server *srv = c->srv; /* c may be closing after the burst */
	const struct wg_conn_handlers *h = c->h;
	bool stream = c->state == WG_CONN_CSTP;

	/* A burst of stream frames: the owner may batch what they carry (the
	 * data path merges packets per TCP flow, written when the burst ends). */
	if (stream && h->burst_begin)
		h->burst_begin(srv);
	conn_read_tls_burst(c);
	/* Bytes read ahead for c stay with c, never in the shared buffer
	 * past this call. */
	if (rx_ahead_release(c) < 0)
		wg_conn_close(c, "out of memory");
	if (stream && h->burst_end)
		h->burst_end(srv);
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct wg_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == WG_CONN_TLS)
		conn_handshake(c);
	else
		conn_read_tls(c);
}

static void conn_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct wg_conn *c = arg;

	(void)fd;
	(void)what;
	if (conn_flush(c) < 0 || c->state == WG_CONN_CLOSING)
		return;
	if (c->state != WG_CONN_TLS && wolfSSL_pending(c->ssl) > 0)
		conn_read_tls(c);
}

static void conn_on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct wg_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == WG_CONN_TLS)
		wg_conn_close(c, c->awaiting_proxy ? "no PROXY protocol header in time" : "TLS handshake timed out");
	else if (c->state == WG_CONN_HTTP)
		wg_conn_close(c, "no login or tunnel request in time");
}

void wg_conn_request_done(struct wg_conn *c)
{
	if (c->state != WG_CONN_HTTP)
		return;
	c->busy = false;
	wg_http_parser_reset(c->http);
	/* The next request is read from the event loop, never from here:
	 * this is called from inside the answer (a plugin that prompts in
	 * start(), say), and reading on from here would answer pipelined
	 * requests one stack frame deeper each. When the caller is the read
	 * path itself, its pump simply goes on with the queue. */
	event_active(c->rev, EV_READ, 0);
}

const uint8_t *wg_conn_http_rest(struct wg_conn *c, size_t *len)
{
	return wg_http_pipe_rest(&priv(c)->pipe, len);
}

int wg_conn_enter_stream(struct wg_conn *c, const struct wg_conn_handlers *h, void *owner, const uint8_t *extra,
			 size_t extra_len)
{
	c->state = WG_CONN_CSTP;
	c->h = h;
	c->owner = owner;
	wg_http_parser_free(c->http);
	c->http = NULL;
	evtimer_del(c->timer);
	conn_logged_in(c);
	if (extra_len && conn_cstp_input(c, extra, extra_len) < 0)
		return -1;
	return 0;
}
