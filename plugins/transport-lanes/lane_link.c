/* The lanes' UDP socket and its DTLS 1.3 associations (see lane_link.h).
 * The socket, record I/O, handshake timer and link lifetime are
 * plugins/lib-dtls/dtls_assoc.c, shared with transport-dtls; this file is
 * what lanes add: CID and PSK-identity demux, moves, per-owner counts. */
#include "lane_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "count_map.h"
#include "dtls_assoc.h"
#include "dtls_log.h"
#include "hashmap.h"
#include "lane_datagram.h"

#define RECV_BURST 32
#define DATAGRAM_MAX 2048
#define LANE_SUITE "TLS13-AES128-GCM-SHA256"

struct wg_lane_link {
	struct wg_dtls_assoc a; /* first: wolfSSL's I/O context is the link */
	struct wg_lane_server *srv;
	void *owner;
	unsigned lane;
	uint8_t sid[WG_LANE_SID_LEN];
	uint8_t psk[WG_LANE_PSK_LEN];
	char identity[WG_LANE_IDENTITY_MAX];
	uint8_t cid[WG_LANE_CID_LEN];
	bool in_addr_map, in_cid_map, half_open;
	/* The handshake's last round trip: from our last flight (the one
	 * that answered the client's ClientHello) to the client's Finished. */
	uint64_t flight_us, handshake_rtt_us;
	/* A record with our CID from a new address: moves the link there once
	 * one of its records authenticates. */
	bool move_pending;
	struct sockaddr_storage move_to;
	socklen_t move_len;
};

struct wg_lane_server {
	struct wg_dtls_sock sock; /* the UDP socket, its bursts and send batch */
	struct wg_lane_server_cb cb;
	void *arg;
	int port;
	WOLFSSL_CTX *ctx;
	struct wg_hashmap *by_addr, *by_cid;
	struct wg_hashmap *half_open_of; /* owner -> its half-open handshakes (count_map.h) */
	struct wg_lane_server_limits lim;
	struct wg_lane_server_stats st;
};

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

static uint64_t now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}

/* ---- link life ---------------------------------------------------------------- */

/* The socket's release: the link is dead and idle. */
static void release(struct wg_dtls_assoc *a)
{
	struct wg_lane_link *l = (struct wg_lane_link *)a;

	wg_dtls_assoc_release(a);
	explicit_bzero(l->psk, sizeof(l->psk));
	free(l);
}

/* Half-open handshakes of one owner, so that one session (whose id its
 * client knows) cannot hold every slot of max_handshakes. */
static int half_open_begin(struct wg_lane_link *l)
{
	struct wg_lane_server *srv = l->srv;

	if (wg_count_add(srv->half_open_of, &l->owner) < 0)
		return -1;
	l->half_open = true;
	srv->st.handshakes_open++;
	return 0;
}

static void half_open_end(struct wg_lane_link *l)
{
	if (!l->half_open)
		return;
	l->half_open = false;
	l->srv->st.handshakes_open--;
	wg_count_drop(l->srv->half_open_of, &l->owner);
}

/* Out of every map and count; idempotent. */
static void detach(struct wg_lane_link *l)
{
	struct wg_lane_server *srv = l->srv;

	if (l->in_addr_map && wg_hashmap_get(srv->by_addr, &l->a.key) == l)
		wg_hashmap_del(srv->by_addr, &l->a.key);
	if (l->in_cid_map && wg_hashmap_get(srv->by_cid, l->cid) == l)
		wg_hashmap_del(srv->by_cid, l->cid);
	l->in_addr_map = l->in_cid_map = false;
	half_open_end(l);
	if (l->a.up) {
		srv->st.links_up--;
		l->a.up = false;
	}
	wg_dtls_assoc_timer_stop(&l->a);
}

/* The link dies from the network side; its owner hears of it if it was up. */
static void lost(struct wg_lane_link *l, const char *why)
{
	bool was_up = l->a.up;

	if (l->a.dead)
		return;
	detach(l);
	l->a.dead = true;
	dtls_log(was_up ? WG_LOG_INFO : WG_LOG_DEBUG, "lane %u %s: %s", l->lane, l->a.peer_text, why);
	wg_dtls_assoc_call_begin(&l->a);
	if (was_up && l->srv->cb.on_closed)
		l->srv->cb.on_closed(l->srv->arg, l->owner, l->lane, l, why);
	wg_dtls_assoc_call_end(&l->a); /* frees it */
}

/* The handshake timer gave up on it. */
static void handshake_lost(struct wg_dtls_assoc *a, const char *why)
{
	struct wg_lane_link *l = (struct wg_lane_link *)a;

	l->srv->st.handshakes_refused++;
	lost(l, why);
}

void wg_lane_link_close(struct wg_lane_link *l)
{
	if (!l || l->a.dead)
		return;
	if (l->a.up && l->a.ssl)
		wolfSSL_shutdown(l->a.ssl); /* close_notify, best effort */
	detach(l);
	wg_dtls_assoc_kill(&l->a);
}

static struct wg_lane_link *link_new(struct wg_lane_server *srv, const struct sockaddr *sa, socklen_t salen,
				     void *owner, const uint8_t sid[WG_LANE_SID_LEN], unsigned lane,
				     const uint8_t psk[WG_LANE_PSK_LEN])
{
	struct wg_lane_link *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	wg_dtls_assoc_init(&l->a, &srv->sock, sa, salen);
	l->srv = srv;
	l->owner = owner;
	l->lane = lane;
	memcpy(l->sid, sid, WG_LANE_SID_LEN);
	memcpy(l->psk, psk, WG_LANE_PSK_LEN);
	wg_lane_identity_format(sid, lane, l->identity);
	if (getrandom(l->cid, sizeof(l->cid), 0) != sizeof(l->cid) || wg_dtls_assoc_ssl(&l->a, srv->ctx) < 0 ||
	    wolfSSL_dtls_cid_use(l->a.ssl) != WOLFSSL_SUCCESS ||
	    wolfSSL_dtls_cid_set(l->a.ssl, l->cid, sizeof(l->cid)) != WOLFSSL_SUCCESS ||
	    wolfSSL_only_dhe_psk(l->a.ssl) != 0) { /* 0 is success here */
		release(&l->a);
		return NULL;
	}
	wg_dtls_assoc_set_deadline(&l->a, srv->lim.timeout_ms);
	return l;
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
	half_open_end(l);
	l->a.up = true;
	srv->st.links_up++;
	srv->st.handshakes_done++;
	if (wolfSSL_dtls_cid_is_enabled(l->a.ssl) == WOLFSSL_SUCCESS && wg_hashmap_put(srv->by_cid, l->cid, l) == 0)
		l->in_cid_map = true;
	dtls_log(WG_LOG_INFO, "lane %u %s: %s %s up%s", l->lane, l->a.peer_text, wolfSSL_get_version(l->a.ssl),
		 wolfSSL_get_cipher(l->a.ssl), l->in_cid_map ? " with a connection ID" : "");
	if (srv->cb.on_up) {
		wg_dtls_assoc_call_begin(&l->a);
		srv->cb.on_up(srv->arg, l->owner, l->lane, l);
		wg_dtls_assoc_call_end(&l->a);
	}
}

static void handshake_step(struct wg_lane_link *l)
{
	char why[WOLFSSL_MAX_ERROR_SZ];
	int r = wg_dtls_assoc_accept(&l->a, why, sizeof(why));

	if (r > 0) {
		/* A flight the handshake timer retransmitted makes this 1 s or
		 * more, which lane_rto.c does not take (Karn's rule). */
		if (l->flight_us)
			l->handshake_rtt_us = now_us() - l->flight_us;
		established(l);
	} else if (r == 0) {
		l->flight_us = now_us();
	} else if (r < 0) {
		dtls_log(WG_LOG_INFO, "lane %u %s: handshake refused: %s", l->lane, l->a.peer_text, why);
		l->srv->st.handshakes_refused++;
		lost(l, "handshake failed");
	}
}

/* A ClientHello naming a live lane: a half-open link with that lane's key. */
static void new_peer(struct wg_lane_server *srv, const uint8_t *d, size_t len, const struct sockaddr *sa,
		     socklen_t salen, const struct wg_udp_local *local, struct wg_lane_link *same_addr)
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
	if (!owner || wg_count_of(srv->half_open_of, &owner) >= WG_LANE_HALF_OPEN_PER_SESSION) {
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
	if (wg_hashmap_put(srv->by_addr, &l->a.key, l) < 0) {
		release(&l->a);
		return;
	}
	l->in_addr_map = true;
	if (half_open_begin(l) < 0) {
		detach(l);
		release(&l->a);
		return;
	}
	/* Answered from the address the hello was sent to. */
	wg_dtls_assoc_set_local(&l->a, local);
	wg_dtls_assoc_feed(&l->a, d, len, local);
	handshake_step(l);
}

/* ---- records -------------------------------------------------------------------- */

/* The first record that authenticated from a new address moves the link. */
static void move_now(struct wg_lane_link *l)
{
	struct wg_lane_server *srv = l->srv;
	char was[sizeof(l->a.peer_text)];

	l->move_pending = false;
	if (l->in_addr_map && wg_hashmap_get(srv->by_addr, &l->a.key) == l)
		wg_hashmap_del(srv->by_addr, &l->a.key);
	l->in_addr_map = false;
	memcpy(was, l->a.peer_text, sizeof(was));
	wg_dtls_assoc_init(&l->a, &srv->sock, (struct sockaddr *)&l->move_to, l->move_len);
	if (!wg_hashmap_get(srv->by_addr, &l->a.key) && wg_hashmap_put(srv->by_addr, &l->a.key, l) == 0)
		l->in_addr_map = true;
	dtls_log(WG_LOG_INFO, "lane %u %s: moved to %s", l->lane, was, l->a.peer_text);
	srv->st.moved++;
}

static bool on_record(struct wg_dtls_assoc *a, uint8_t *rec, size_t n)
{
	struct wg_lane_link *l = (struct wg_lane_link *)a;

	if (l->move_pending)
		move_now(l);
	wg_dtls_assoc_call_begin(a);
	l->srv->cb.on_record(l->srv->arg, l->owner, l->lane, l, rec, n);
	return wg_dtls_assoc_call_end(a) && !a->dead;
}

/* single: the datagram is one record, so the read that would only say
 * nothing is left (a trip through wolfSSL's record layer per datagram) is
 * skipped, as transport-dtls does. */
static void handle_records(struct wg_lane_link *l, bool single)
{
	char why[WOLFSSL_MAX_ERROR_SZ];
	enum wg_dtls_read r = wg_dtls_assoc_read(&l->a, single, on_record, why, sizeof(why));

	if (r == WG_DTLS_READ_GONE)
		return;
	l->move_pending = false; /* nothing (more) authenticated from there */
	if (r == WG_DTLS_READ_CLOSED)
		lost(l, "the client closed the lane");
	else if (r == WG_DTLS_READ_FATAL) /* an alert, a broken state */
		lost(l, why);
}

static void handle_datagram(void *arg, uint8_t *d, size_t n, const struct sockaddr *sa, socklen_t salen,
			    const struct wg_udp_local *local)
{
	struct wg_lane_server *srv = arg;
	uint8_t cid[WG_LANE_CID_LEN];
	struct wg_peer_key key;
	struct wg_lane_link *l = NULL;

	wg_peer_key_make(sa, &key);
	if (wg_lane_datagram_cid(d, n, cid) == 0)
		l = wg_hashmap_get(srv->by_cid, cid);
	if (l) {
		if (memcmp(&key, &l->a.key, sizeof(key)) != 0) {
			l->move_pending = true;
			memcpy(&l->move_to, sa, salen);
			l->move_len = salen;
		}
	} else {
		const uint8_t *id;
		size_t id_len;
		l = wg_hashmap_get(srv->by_addr, &key);
		if (!l) {
			new_peer(srv, d, n, sa, salen, local, NULL);
			return;
		}
		if (l->a.up && wg_lane_datagram_psk_identity(d, n, &id, &id_len) == 0) {
			/* A ClientHello from an up link's address: the same lane
			 * starting over replaces it; another lane may share the
			 * address only while this one is found by its CID. */
			bool same = id_len == strlen(l->identity) && memcmp(id, l->identity, id_len) == 0;
			if (!same && l->in_cid_map) {
				wg_hashmap_del(srv->by_addr, &l->a.key);
				l->in_addr_map = false;
				l = NULL;
			}
			new_peer(srv, d, n, sa, salen, local, l);
			return;
		}
	}
	wg_dtls_assoc_feed(&l->a, d, n, local);
	if (l->a.up)
		handle_records(l, wg_lane_datagram_single_record(d, n));
	else
		handshake_step(l);
}

/* ---- the server ------------------------------------------------------------------- */

/* Answers (PROBE-ACKs) of a burst leave together; the owner hears of it. */
static void burst(void *arg, bool begin)
{
	struct wg_lane_server *srv = arg;

	if (srv->cb.on_burst)
		srv->cb.on_burst(srv->arg, begin);
}

static const struct wg_dtls_sock_ops sock_ops = {
	.on_datagram = handle_datagram,
	.on_burst = burst,
	.on_handshake_lost = handshake_lost,
	.release = release,
};

struct wg_lane_server *wg_lane_server_new(const struct wg_host *host, int fd, const struct wg_lane_server_cb *cb,
					  void *arg, const struct wg_lane_server_limits *lim)
{
	const struct wg_dtls_sock_size size = {RECV_BURST, DATAGRAM_MAX, DATAGRAM_MAX};
	struct wg_lane_server *srv;
	WOLFSSL_CTX *ctx;

	if (!cb || !cb->lookup || !cb->on_record || !lim || !(srv = calloc(1, sizeof(*srv)))) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	srv->cb = *cb;
	srv->arg = arg;
	srv->lim = *lim;
	if (wg_dtls_sock_init(&srv->sock, host, fd, &size, &sock_ops, srv) < 0) {
		free(srv);
		return NULL;
	}
	srv->port = wg_dtls_sock_port(&srv->sock);
	srv->by_addr = wg_hashmap_new(sizeof(struct wg_peer_key));
	srv->by_cid = wg_hashmap_new(WG_LANE_CID_LEN);
	srv->half_open_of = wg_hashmap_new(sizeof(void *));
	if ((ctx = wolfSSL_CTX_new(wolfDTLSv1_3_server_method())))
		wolfSSL_CTX_set_psk_server_tls13_callback(ctx, psk_cb);
	srv->ctx = wg_dtls_ctx_finish(ctx, LANE_SUITE);
	if (!srv->by_addr || !srv->by_cid || !srv->half_open_of || !srv->ctx) {
		dtls_log(WG_LOG_ERROR, "lanes: cannot set up the DTLS 1.3 server (out of memory, or wolfSSL lacks DTLS 1.3 PSK)");
		wg_lane_server_free(srv);
		return NULL;
	}
	return srv;
}

static void free_one(const void *key, void *value, void *arg)
{
	struct wg_lane_link *l = value;

	(void)key;
	(void)arg;
	l->in_addr_map = l->in_cid_map = false; /* the maps go as a whole */
	if (!l->a.dead)
		wg_dtls_assoc_kill(&l->a);
}

void wg_lane_server_free(struct wg_lane_server *srv)
{
	if (!srv)
		return;
	/* A link may be in both maps: the CID map first drops those, so the
	 * address map sees only links not freed yet. */
	if (srv->by_cid) {
		void **v;
		size_t n;
		v = wg_hashmap_values(srv->by_cid, &n);
		for (size_t i = 0; v && i < n; i++) {
			struct wg_lane_link *l = v[i];
			if (l->in_addr_map && wg_hashmap_get(srv->by_addr, &l->a.key) == l)
				wg_hashmap_del(srv->by_addr, &l->a.key);
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
	wg_dtls_sock_fini(&srv->sock);
	free(srv);
}

int wg_lane_server_port(const struct wg_lane_server *srv)
{
	return srv ? srv->port : 0;
}

/* ---- sending ------------------------------------------------------------------------ */

int wg_lane_link_send(struct wg_lane_link *l, const uint8_t *rec, size_t len)
{
	if (!l || !l->a.up || l->a.dead || len == 0)
		return -1;
	return wg_dtls_assoc_write(&l->a, rec, len);
}

const char *wg_lane_link_peer(const struct wg_lane_link *l)
{
	return l ? l->a.peer_text : "?";
}

uint64_t wg_lane_link_handshake_rtt_us(const struct wg_lane_link *l)
{
	return l ? l->handshake_rtt_us : 0;
}

size_t wg_lane_link_max_record(const struct wg_lane_link *l)
{
	return l ? wg_dtls_assoc_max_record(&l->a) : 0;
}

void wg_lane_server_batch_begin(struct wg_lane_server *srv)
{
	wg_dtls_sock_batch_begin(&srv->sock);
}

void wg_lane_server_batch_end(struct wg_lane_server *srv)
{
	wg_dtls_sock_batch_end(&srv->sock);
}

void wg_lane_server_stats(const struct wg_lane_server *srv, struct wg_lane_server_stats *out)
{
	*out = srv->st;
	out->dropped = wg_dtls_sock_dropped(&srv->sock);
}
