/* The lanes' UDP socket: many DTLS 1.3 associations ("links"), one per
 * lane of a session, on one socket of a worker (docs/lanes.md section 3).
 *
 * A datagram finds its link by the connection ID the server gave it (so a
 * link follows its client to a new address once a record from there
 * authenticates), or by source address while the handshake runs and for
 * clients without CIDs. A datagram from an unknown place is looked at only
 * if it is a ClientHello whose PSK identity names a live lane-session and
 * lane number (the lookup callback); the handshake then runs with that
 * lane's key, psk_dhe_ke only. wolfSSL gets datagrams through custom I/O
 * callbacks; nothing is connect()ed. */
#ifndef WG_LANE_LINK_H
#define WG_LANE_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wolfguard/plugin.h>

#include "lane_msg.h"

struct wg_lane_server;
struct wg_lane_link;

/* Run on the host's loop. They may call wg_lane_link_send and
 * wg_lane_link_close (any link), never wg_lane_server_free. */
struct wg_lane_server_cb {
	/* The owner (a session's lane set) of lane `lane` of lane-session sid,
	 * with that lane's key copied to psk; NULL when there is none. Asked
	 * again when the handshake ends: the link comes up only if the same
	 * owner with the same key is still there. */
	void *(*lookup)(void *arg, const uint8_t sid[WG_LANE_SID_LEN], unsigned lane, uint8_t psk[WG_LANE_PSK_LEN]);
	/* A handshake finished: link now carries lane `lane` of owner. */
	void (*on_up)(void *arg, void *owner, unsigned lane, struct wg_lane_link *link);
	/* One decrypted record of an up link. */
	void (*on_record)(void *arg, void *owner, unsigned lane, struct wg_lane_link *link, const uint8_t *rec,
			  size_t len);
	/* The link is gone (peer closed, fatal error, a newer handshake for
	 * the same lane). `link` must not be used after this returns. */
	void (*on_closed)(void *arg, void *owner, unsigned lane, struct wg_lane_link *link, const char *why);
	/* Optional: a burst of datagrams begins (true) and ends (false). */
	void (*on_burst)(void *arg, bool begin);
};

/* Half-open handshakes one lane-session may hold at once (twice its most
 * lanes): its client knows its id, and must not take every slot. */
#define WG_LANE_HALF_OPEN_PER_SESSION (2 * WG_LANES_MAX)

struct wg_lane_server_limits {
	unsigned max_handshakes; /* half-open handshakes at once */
	unsigned timeout_ms;     /* each handshake's time */
};

/* Serves the bound UDP socket fd (taken over; closed on failure). NULL and
 * a logged reason on failure. */
struct wg_lane_server *wg_lane_server_new(const struct wg_host *host, int fd, const struct wg_lane_server_cb *cb,
					  void *arg, const struct wg_lane_server_limits *lim);
void wg_lane_server_free(struct wg_lane_server *srv);
int wg_lane_server_port(const struct wg_lane_server *srv);

/* Sends one message (rec[0] is its type byte; len counts it). 0, or -1. A
 * full socket buffer drops it, as IP would. */
int wg_lane_link_send(struct wg_lane_link *l, const uint8_t *rec, size_t len);
/* Ends a link from the owner's side: close_notify, freed, no on_closed. */
void wg_lane_link_close(struct wg_lane_link *l);
const char *wg_lane_link_peer(const struct wg_lane_link *l);
/* The handshake's last round trip as the server saw it (its flight to the
 * client's Finished), in microseconds; 0 when not known. */
uint64_t wg_lane_link_handshake_rtt_us(const struct wg_lane_link *l);
/* The largest message (type byte included) one record carries. */
size_t wg_lane_link_max_record(const struct wg_lane_link *l);

/* Between begin and end, records of up links are queued and leave together
 * (one sendmmsg, UDP GSO). Not nested. */
void wg_lane_server_batch_begin(struct wg_lane_server *srv);
void wg_lane_server_batch_end(struct wg_lane_server *srv);

struct wg_lane_server_stats {
	uint64_t links_up, handshakes_open;
	uint64_t handshakes_done, handshakes_refused; /* refused: unknown identity, bad binder, timeout */
	uint64_t moved;                               /* links that followed their client to a new address */
	uint64_t dropped;                             /* datagrams the send batch dropped */
};
void wg_lane_server_stats(const struct wg_lane_server *srv, struct wg_lane_server_stats *out);

#endif
