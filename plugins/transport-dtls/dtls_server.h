/* The DTLS channel: one UDP socket per worker, many peers.
 *
 * Datagrams are demultiplexed by peer address. A datagram from an unknown
 * peer is accepted only if it is a ClientHello whose session id is the
 * X-DTLS-App-ID of a live session (lookup callback); the DTLS 1.2 handshake
 * then runs with that session's PSK (PSK-NEGOTIATE: 32 bytes exported from
 * the session's TLS connection with label "EXPORTER-openconnect-psk").
 * wolfSSL objects get datagrams through custom I/O callbacks, so no socket
 * is connect()ed per peer.
 *
 * Inside DTLS each record is one type byte (CSTP codes) and a payload. DPD
 * requests are answered and keepalives absorbed here; DATA and DISCONNECT go
 * up through on_packet. */
#ifndef WG_DTLS_SERVER_H
#define WG_DTLS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <wolfguard/plugin.h>

#include "dtls_legacy_hdr.h"

struct wg_dtls_server;
struct wg_dtls_link; /* one peer's DTLS state */

#define WG_DTLS_PSK_LEN 32
#define WG_DTLS_APP_ID_LEN 32

/* Callbacks run on the host's event loop; they may call wg_dtls_send and
 * wg_dtls_link_close (on any link), never wg_dtls_server_free. */
struct wg_dtls_callbacks {
	/* The session whose App-ID this is, with its PSK copied to psk; NULL if
	 * none (the datagram is then dropped silently). Called again when a
	 * handshake completes: the link comes up only if the same session with
	 * the same PSK is still there. */
	void *(*lookup)(void *arg, const uint8_t *app_id, size_t len, uint8_t psk[WG_DTLS_PSK_LEN]);
	/* Handshake done: the session may now send over link. A session has at
	 * most one link; a new handshake from a new address replaces the old
	 * link (roaming), after on_closed for the old one. */
	void (*on_up)(void *arg, void *session, struct wg_dtls_link *link);
	/* A DATA (0x00) or DISCONNECT (0x05) record from the peer. */
	void (*on_packet)(void *arg, void *session, uint8_t type, const uint8_t *payload, size_t len);
	/* The link is gone (peer closed, fatal error, replaced). `link` must not
	 * be used after this returns. */
	void (*on_closed)(void *arg, void *session, struct wg_dtls_link *link);
	/* Optional: a burst of received datagrams begins (begin true) and
	 * ends; the on_packet calls of the burst come in between. */
	void (*on_burst)(void *arg, bool begin);
	/* Legacy DTLS (dtls_legacy.c). Optional: fills out and returns
	 * true if this session's client was answered with a legacy suite, so
	 * the handshake resumes the client's master secret instead of PSK. */
	bool (*legacy)(void *arg, void *session, struct wg_dtls_legacy_params *out);
};

/* Serves a bound UDP socket (the host's, see transport_udp_socket) on the
 * host's loop: host->fd_watch for the socket, host->timer_add for handshake
 * retransmits and deadlines. Takes fd over, closing it on failure; returns
 * NULL and logs the reason on failure. */
struct wg_dtls_server *wg_dtls_server_new_on(const struct wg_host *host, int fd, const struct wg_dtls_callbacks *cb,
					     void *arg);
void wg_dtls_server_free(struct wg_dtls_server *srv);
/* The UDP port actually bound (useful when 0 was asked for). */
int wg_dtls_server_port(const struct wg_dtls_server *srv);

/* Sends one record (type byte + payload). Returns 0, or -1 if the link is
 * not usable (the caller falls back to CSTP). Never blocks: a full socket
 * buffer drops the packet, as IP would. */
int wg_dtls_send(struct wg_dtls_link *link, uint8_t type, const uint8_t *payload, size_t len);
/* The same for a record already framed: rec[0] is the type byte and len
 * counts it. No copy (wg_dtls_send copies into its own buffer). */
int wg_dtls_send_record(struct wg_dtls_link *l, uint8_t *rec, size_t len);
/* Ends a link from the session's side (session closed): sends close_notify
 * and frees it; on_closed is not called. */
void wg_dtls_link_close(struct wg_dtls_link *link);
/* The peer's address as text ("198.51.100.7:50432"). */
const char *wg_dtls_link_peer(const struct wg_dtls_link *link);

/* Additions to the lead's contract (additive only). */

/* The largest payload (after the type byte) one record on this link can
 * carry, bounded by the DTLS MTU wolfSSL enforces; 0 if not up. The core
 * sizes X-DTLS-MTU with it and sends larger packets over CSTP. */
size_t wg_dtls_link_max_payload(const struct wg_dtls_link *link);

/* Half-open handshake limits: at most max_handshakes at once (new
 * ClientHellos beyond it are dropped) and each one ends after timeout_ms.
 * Defaults: 1024 and 10000. 0 keeps the current value. */
/* Shares of that table: at most per_session half-open handshakes for one
 * session (App-ID) and per_address for one client IP address (any port),
 * so that one user or one host cannot hold every slot. Defaults 4 and 64;
 * 0 keeps the current value. */
void wg_dtls_server_set_shares(struct wg_dtls_server *srv, unsigned per_session, unsigned per_address);
void wg_dtls_server_set_limits(struct wg_dtls_server *srv, unsigned max_handshakes,
			       unsigned timeout_ms);

struct wg_dtls_stats {
	size_t links_up;   /* links past their handshake */
	size_t handshakes; /* half-open handshakes holding state */
	uint64_t dropped;  /* datagrams the send batch dropped */
	bool gro;          /* UDP GRO on the socket */
	uint64_t gro_trains, gro_train_datagrams, rx_refused; /* wg_dtls_sock_counts */
};
/* UDP GRO on the socket on (the default, where the kernel has it) or off;
 * true when it is as asked. */
bool wg_dtls_server_set_gro(struct wg_dtls_server *srv, bool on);
void wg_dtls_server_stats(const struct wg_dtls_server *srv, struct wg_dtls_stats *out);

/* A burst of sends: between begin and end, records of up links are queued
 * and leave together at end (one sendmmsg, UDP GSO where the kernel takes
 * it). Handshake records are never held. end with nothing queued is free.
 * Not nested. */
void wg_dtls_server_batch_begin(struct wg_dtls_server *srv);
void wg_dtls_server_batch_end(struct wg_dtls_server *srv);

/* Legacy DTLS: true if this server can resume legacy sessions (its wolfSSL
 * has the suites and the session format, see dtls_legacy.c). */
bool wg_dtls_server_legacy_ok(const struct wg_dtls_server *srv);

#endif
