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
 * server belongs to one event loop. The socket, its bursts and send batch,
 * the record I/O, the handshake timer and that lifetime rule are
 * plugins/lib-dtls/dtls_assoc.c, shared with transport-lanes; this file is
 * what openconnect's DTLS 1.2 adds (App-ID demux, cookies, shares, legacy
 * resumption, the CSTP type byte). */
#include "dtls_server.h"

#include <wolfguard/cstp_wire.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "count_map.h"
#include "dtls_assoc.h"
#include "dtls_hello.h"
#include "dtls_legacy.h"
#include "dtls_legacy_ems.h"
#include "dtls_log.h"
#include "dtls_payload.h"
#include "hashmap.h"

#define DEFAULT_MAX_HANDSHAKES 1024
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
#define DEFAULT_PER_SESSION 4   /* a client handshakes once; a restart or a move adds one */
#define DEFAULT_PER_ADDRESS 64  /* many users may share a NAT address */
#define RECV_BURST 64       /* datagrams per wakeup, so other events get a turn */
#define DATAGRAM_MAX 4096   /* wolfSSL reads at most MTU + 500; larger is dropped */
#define PLAIN_MAX 16384     /* the largest DTLS record plaintext (RFC 6347) */
#define COOKIE_SECRET_LEN 32

struct wg_dtls_link {
	struct wg_dtls_assoc a;       /* first: wolfSSL's I/O context is the link */
	struct wg_dtls_server *srv;   /* borrowed */
	void *session;                /* the core's, borrowed */
	uint8_t app_id[WG_DTLS_APP_ID_LEN];
	uint8_t psk[WG_DTLS_PSK_LEN]; /* wiped on free */
	struct wg_dtls_legacy_params legacy; /* legacy DTLS: suite != NULL; wiped on free */
	size_t max_payload;           /* set when up */
	bool registered;              /* in srv->links, and counted in the shares */
	bool in_session_map;          /* in srv->by_session */
};

struct wg_dtls_server {
	struct wg_dtls_sock sock;      /* the UDP socket, its bursts and send batch */
	WOLFSSL_CTX *ctx;
	WOLFSSL_CTX *legacy_ctx;       /* legacy DTLS resumption; NULL if wolfSSL cannot */
	struct wg_hashmap *links;      /* wg_peer_key -> link, half-open and up */
	struct wg_hashmap *by_session; /* session pointer -> its up link */
	struct wg_hashmap *per_session; /* session pointer -> half-open count (count_map.h) */
	struct wg_hashmap *per_addr;    /* 16-byte address -> half-open count */
	size_t handshakes;             /* registered links not yet up */
	size_t links_up;
	unsigned max_handshakes, max_per_session, max_per_addr;
	unsigned timeout_ms;
	struct wg_dtls_callbacks cb;
	void *arg;
	uint8_t cookie_secret[COOKIE_SECRET_LEN];
	uint8_t tx[PLAIN_MAX];         /* one record to encrypt */
};

/* The PSK suites GnuTLS offers under openconnect's "-KX-ALL:+PSK" (plain
 * PSK key exchange only), best first; ECDHE-PSK for other clients. */
static const char psk_suites[] = "PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256:PSK-CHACHA20-POLY1305:"
				 "PSK-AES256-CBC-SHA384:PSK-AES128-CBC-SHA256:"
				 "ECDHE-PSK-CHACHA20-POLY1305:ECDHE-PSK-AES128-CBC-SHA256";

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

/* ---- link lifetime ------------------------------------------------------ */

/* A registered link leaves the half-open state (up, or gone). */
static void half_open_end(struct wg_dtls_link *l)
{
	struct wg_dtls_server *srv = l->srv;

	srv->handshakes--;
	wg_count_drop(srv->per_session, &l->session);
	wg_count_drop(srv->per_addr, l->a.key.addr);
}

/* The socket's release: the link is dead and idle. */
static void link_release(struct wg_dtls_assoc *a)
{
	struct wg_dtls_link *l = (struct wg_dtls_link *)a;

	wg_dtls_assoc_release(a);
	explicit_bzero(l->psk, sizeof(l->psk));
	explicit_bzero(&l->legacy, sizeof(l->legacy));
	free(l);
}

/* Out of every map and count; idempotent. */
static void link_detach(struct wg_dtls_link *l)
{
	struct wg_dtls_server *srv = l->srv;

	if (l->registered) {
		if (wg_hashmap_get(srv->links, &l->a.key) == l)
			wg_hashmap_del(srv->links, &l->a.key);
		if (l->a.up)
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
	wg_dtls_assoc_timer_stop(&l->a);
}

static void link_destroy(struct wg_dtls_link *l)
{
	link_detach(l);
	wg_dtls_assoc_kill(&l->a);
}

/* The link dies from the network side: tell the core if it knew it. */
static void link_lost(struct wg_dtls_link *l, const char *why)
{
	bool was_up = l->a.up;

	if (l->a.dead)
		return;
	link_detach(l);
	l->a.dead = true; /* wg_dtls_link_close from on_closed is then a no-op */
	dtls_log(was_up ? WG_LOG_INFO : WG_LOG_DEBUG, "DTLS %s: %s", l->a.peer_text, why);
	wg_dtls_assoc_call_begin(&l->a);
	if (was_up && l->srv->cb.on_closed)
		l->srv->cb.on_closed(l->srv->arg, l->session, l);
	wg_dtls_assoc_call_end(&l->a); /* frees it */
}

static void handshake_lost(struct wg_dtls_assoc *a, const char *why)
{
	link_lost((struct wg_dtls_link *)a, why);
}

static struct wg_dtls_link *link_new(struct wg_dtls_server *srv, const struct sockaddr *sa, socklen_t salen,
				     void *session, const uint8_t *app_id, const uint8_t psk[WG_DTLS_PSK_LEN],
				     const struct wg_dtls_legacy_params *legacy)
{
	struct wg_dtls_link *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	wg_dtls_assoc_init(&l->a, &srv->sock, sa, salen);
	l->srv = srv;
	l->session = session;
	memcpy(l->app_id, app_id, WG_DTLS_APP_ID_LEN);
	memcpy(l->psk, psk, WG_DTLS_PSK_LEN);
	l->legacy = *legacy;
	if (wg_dtls_assoc_ssl(&l->a, legacy->suite ? srv->legacy_ctx : srv->ctx) < 0 ||
	    wolfSSL_DTLS_SetCookieSecret(l->a.ssl, srv->cookie_secret, sizeof(srv->cookie_secret)) != 0) {
		link_release(&l->a);
		return NULL;
	}
	wg_dtls_assoc_set_deadline(&l->a, srv->timeout_ms);
	return l;
}

/* ---- handshake ---------------------------------------------------------- */

/* Returns 1 when the handshake is done, 0 while it goes on, -1 on failure
 * (logged; the caller frees the link). */
static int drive_handshake(struct wg_dtls_link *l)
{
	char buf[WOLFSSL_MAX_ERROR_SZ];
	int r = wg_dtls_assoc_accept(&l->a, buf, sizeof(buf));

	if (r < 0)
		dtls_log(WG_LOG_INFO, "DTLS %s: handshake failed: %s", l->a.peer_text, buf);
	return r;
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
	size_t max;

	if (!session_still_live(l)) {
		link_lost(l, "session ended during the DTLS handshake");
		return;
	}
	wg_dtls_assoc_timer_stop(&l->a);
	l->a.up = true;
	half_open_end(l);
	srv->links_up++;
	max = wg_dtls_assoc_max_record(&l->a);
	l->max_payload = max > 1 ? max - 1 : 0;
	old = wg_hashmap_get(srv->by_session, &l->session);
	if (old && old != l)
		link_lost(old, "replaced by a new DTLS link"); /* roaming */
	if (wg_hashmap_put(srv->by_session, &l->session, l) < 0) {
		link_lost(l, "out of memory");
		return;
	}
	l->in_session_map = true;
	dtls_log(WG_LOG_INFO, "DTLS %s: %s %s up, records up to %zu bytes", l->a.peer_text,
	       wolfSSL_get_version(l->a.ssl), wolfSSL_get_cipher(l->a.ssl), l->max_payload);
	if (srv->cb.on_up) {
		wg_dtls_assoc_call_begin(&l->a);
		srv->cb.on_up(srv->arg, l->session, l);
		wg_dtls_assoc_call_end(&l->a);
	}
}

static void handshake_step(struct wg_dtls_link *l)
{
	int r = drive_handshake(l);

	if (r > 0)
		link_established(l);
	else if (r < 0)
		link_lost(l, "handshake failed");
}

/* A ClientHello from an address without a link (existing == NULL), or from
 * the address of an up link whose client starts over. */
static void new_peer(struct wg_dtls_server *srv, const uint8_t *pkt, size_t len, const struct sockaddr *sa,
		     socklen_t salen, const struct wg_udp_local *local, const struct wg_peer_key *key,
		     struct wg_dtls_link *existing)
{
	uint8_t sid[WG_DTLS_SESSION_ID_MAX], psk[WG_DTLS_PSK_LEN];
	size_t sid_len;
	void *session;
	struct wg_dtls_link *l;
	struct wg_dtls_legacy_params legacy = {0};
	int r;

	if (wg_dtls_hello_session_id(pkt, len, sid, &sid_len) < 0 || sid_len != WG_DTLS_APP_ID_LEN)
		return; /* not a ClientHello for us: no answer at all */
	if (srv->handshakes >= srv->max_handshakes || wg_count_of(srv->per_addr, key->addr) >= srv->max_per_addr)
		return;
	session = srv->cb.lookup(srv->arg, sid, sid_len, psk);
	if (!session || wg_count_of(srv->per_session, &session) >= srv->max_per_session) {
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
	l = link_new(srv, sa, salen, session, sid, psk, &legacy);
	explicit_bzero(psk, sizeof(psk));
	explicit_bzero(&legacy, sizeof(legacy));
	if (!l) {
		dtls_log(WG_LOG_WARN, "DTLS: cannot create a handshake state (out of memory?)");
		return;
	}
	/* Answered from the address the hello was sent to. */
	wg_dtls_assoc_set_local(&l->a, local);
	wg_dtls_assoc_feed(&l->a, pkt, len, local);
	r = drive_handshake(l);
	if (r < 0 || l->a.sent_hvr) {
		/* Answered statelessly (or refused): the client comes back
		 * with the cookie, and a fresh object checks it. */
		link_release(&l->a);
		return;
	}
	if (existing)
		link_lost(existing, "the client started a new DTLS handshake");
	if (wg_count_add(srv->per_session, &l->session) < 0) {
		link_release(&l->a);
		return;
	}
	if (wg_count_add(srv->per_addr, key->addr) < 0) {
		wg_count_drop(srv->per_session, &l->session);
		link_release(&l->a);
		return;
	}
	if (wg_hashmap_put(srv->links, key, l) < 0) {
		wg_count_drop(srv->per_session, &l->session);
		wg_count_drop(srv->per_addr, key->addr);
		link_release(&l->a);
		return;
	}
	l->registered = true;
	srv->handshakes++;
	if (r > 0)
		link_established(l);
}

/* ---- records after the handshake ---------------------------------------- */

/* Returns false if the link is gone. */
static bool handle_record(struct wg_dtls_assoc *a, uint8_t *rec, size_t n)
{
	struct wg_dtls_link *l = (struct wg_dtls_link *)a;
	struct wg_dtls_server *srv = l->srv;

	switch (wg_dtls_payload_kind(rec, n)) {
	case WG_DTLS_DPD_REQ: /* answered with the same payload, MTU probes included */
		rec[0] = WG_CSTP_DPD_RESP;
		if (n - 1 <= l->max_payload)
			wg_dtls_assoc_write(a, rec, n);
		return true;
	case WG_DTLS_DATA:
	case WG_DTLS_DISCONNECT:
		if (!srv->cb.on_packet)
			return true;
		wg_dtls_assoc_call_begin(a);
		srv->cb.on_packet(srv->arg, l->session, rec[0], rec + 1, n - 1);
		return wg_dtls_assoc_call_end(a);
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
	char why[WOLFSSL_MAX_ERROR_SZ];

	switch (wg_dtls_assoc_read(&l->a, single, handle_record, why, sizeof(why))) {
	case WG_DTLS_READ_CLOSED:
		link_lost(l, "peer closed the DTLS link");
		break;
	case WG_DTLS_READ_FATAL: /* an alert from the peer, a broken state */
		link_lost(l, why);
		break;
	case WG_DTLS_READ_IDLE:
	case WG_DTLS_READ_GONE:
		break;
	}
}

/* ---- the socket ---------------------------------------------------------- */

static void handle_datagram(void *arg, uint8_t *rx, size_t n, const struct sockaddr *sa, socklen_t salen,
			    const struct wg_udp_local *local)
{
	struct wg_dtls_server *srv = arg;
	struct wg_peer_key key;
	struct wg_dtls_link *l;
	uint8_t sid[WG_DTLS_SESSION_ID_MAX];
	size_t sid_len;

	wg_peer_key_make(sa, &key);
	l = wg_hashmap_get(srv->links, &key);
	if (!l) {
		new_peer(srv, rx, n, sa, salen, local, &key, NULL);
		return;
	}
	if (l->a.up && wg_dtls_hello_session_id(rx, n, sid, &sid_len) == 0) {
		/* Same address, new handshake: the client restarted. The old
		 * link goes only if the new hello passes the cookie check. */
		new_peer(srv, rx, n, sa, salen, local, &key, l);
		return;
	}
	wg_dtls_assoc_feed(&l->a, rx, n, local);
	if (l->a.up)
		handle_records(l, wg_dtls_single_record(rx, n));
	else
		handshake_step(l);
	/* l may be freed here. */
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
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfDTLSv1_2_server_method());

	if (!ctx)
		return -ENOMEM;
	/* The callback first: wolfSSL keeps PSK suites only once it knows
	 * PSK is in use, and without a certificate it needs PSK to serve. */
	wolfSSL_CTX_set_psk_server_callback(ctx, psk_cb);
	if (!(srv->ctx = wg_dtls_ctx_finish(ctx, psk_suites)))
		return -ENOTSUP;
	/* legacy DTLS: a second context that only resumes (dtls_legacy.c) */
	char why[600];
	srv->legacy_ctx = wg_dtls_legacy_ctx_new(legacy_params_of, why, sizeof(why));
	if (srv->legacy_ctx) {
		wg_dtls_ctx_set_io(srv->legacy_ctx);
		dtls_log(WG_LOG_DEBUG, "legacy DTLS: %s", why);
	} else
		dtls_log(WG_LOG_WARN, "legacy DTLS off: %s", why);
	return 0;
}

/* The core hears of bursts with its own argument. */
static void burst(void *arg, bool begin)
{
	struct wg_dtls_server *srv = arg;

	srv->cb.on_burst(srv->arg, begin);
}

static const struct wg_dtls_sock_ops sock_ops = {
	.on_datagram = handle_datagram,
	.on_handshake_lost = handshake_lost,
	.release = link_release,
};

struct wg_dtls_server *wg_dtls_server_new_on(const struct wg_host *host, int fd, const struct wg_dtls_callbacks *cb,
					     void *arg)
{
	struct wg_dtls_server *srv;
	struct wg_dtls_sock_ops ops = sock_ops;
	const struct wg_dtls_sock_size size = {RECV_BURST, DATAGRAM_MAX, PLAIN_MAX};
	int r;

	if (!cb || !cb->lookup || !(srv = calloc(1, sizeof(*srv)))) {
		dtls_log(WG_LOG_ERROR, "DTLS: bad arguments to wg_dtls_server_new_on, or out of memory");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	srv->cb = *cb;
	srv->arg = arg;
	srv->max_handshakes = DEFAULT_MAX_HANDSHAKES;
	srv->timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
	srv->max_per_session = DEFAULT_PER_SESSION;
	srv->max_per_addr = DEFAULT_PER_ADDRESS;
	if (cb->on_burst)
		ops.on_burst = burst;
	if (wg_dtls_sock_init(&srv->sock, host, fd, &size, &ops, srv) < 0) {
		free(srv);
		return NULL;
	}
	srv->links = wg_hashmap_new(sizeof(struct wg_peer_key));
	srv->by_session = wg_hashmap_new(sizeof(void *));
	srv->per_session = wg_hashmap_new(sizeof(void *));
	srv->per_addr = wg_hashmap_new(16);
	if (!srv->links || !srv->by_session || !srv->per_session || !srv->per_addr ||
	    getrandom(srv->cookie_secret, sizeof(srv->cookie_secret), 0) != sizeof(srv->cookie_secret)) {
		dtls_log(WG_LOG_ERROR, "DTLS: cannot set up: %s", strerror(errno ? errno : ENOMEM));
		goto fail;
	}
	r = make_ctx(srv);
	if (r < 0) {
		dtls_log(WG_LOG_ERROR, "DTLS: cannot create the wolfSSL context: %s", strerror(-r));
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
	if (srv->ctx)
		wolfSSL_CTX_free(srv->ctx);
	wg_dtls_legacy_ctx_free(srv->legacy_ctx);
	wg_dtls_sock_fini(&srv->sock);
	explicit_bzero(srv->cookie_secret, sizeof(srv->cookie_secret));
	free(srv);
}

int wg_dtls_server_port(const struct wg_dtls_server *srv)
{
	return wg_dtls_sock_port(&srv->sock);
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
	out->dropped = wg_dtls_sock_dropped(&srv->sock);
	out->gro = srv->sock.gro;
	out->gro_trains = srv->sock.counts.trains;
	out->gro_train_datagrams = srv->sock.counts.train_datagrams;
	out->rx_refused = srv->sock.counts.refused;
}

bool wg_dtls_server_set_gro(struct wg_dtls_server *srv, bool on)
{
	return wg_dtls_sock_set_gro(&srv->sock, on);
}

/* ---- links, for the core ------------------------------------------------ */

static bool usable(const struct wg_dtls_link *l)
{
	return l && l->a.up && !l->a.dead;
}

int wg_dtls_send(struct wg_dtls_link *l, uint8_t type, const uint8_t *payload, size_t len)
{
	uint8_t *buf;

	if (!usable(l) || len > l->max_payload)
		return -1;
	buf = l->srv->tx;
	buf[0] = type;
	if (len)
		memcpy(buf + 1, payload, len);
	return wg_dtls_assoc_write(&l->a, buf, len + 1);
}

int wg_dtls_send_record(struct wg_dtls_link *l, uint8_t *rec, size_t len)
{
	if (!usable(l) || len < 1 || len - 1 > l->max_payload)
		return -1;
	return wg_dtls_assoc_write(&l->a, rec, len);
}

void wg_dtls_link_close(struct wg_dtls_link *l)
{
	if (!l || l->a.dead)
		return;
	if (l->a.up)
		wolfSSL_shutdown(l->a.ssl); /* close_notify, best effort */
	dtls_log(WG_LOG_INFO, "DTLS %s: closed by the session", l->a.peer_text);
	link_destroy(l);
}

const char *wg_dtls_link_peer(const struct wg_dtls_link *l)
{
	return l->a.peer_text;
}

size_t wg_dtls_link_max_payload(const struct wg_dtls_link *l)
{
	return usable(l) ? l->max_payload : 0;
}

void wg_dtls_server_batch_begin(struct wg_dtls_server *srv)
{
	if (srv)
		wg_dtls_sock_batch_begin(&srv->sock);
}

void wg_dtls_server_batch_end(struct wg_dtls_server *srv)
{
	if (srv)
		wg_dtls_sock_batch_end(&srv->sock);
}

bool wg_dtls_server_legacy_ok(const struct wg_dtls_server *srv)
{
	return srv && srv->legacy_ctx;
}
