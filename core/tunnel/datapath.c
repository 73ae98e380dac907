/* The data path: TUN <-> sessions, over a transport's lane when one is up
 * (lane.h) and CSTP otherwise. Packets are read into the worker's scratch
 * buffer behind room for the CSTP header, so framing needs no copy and no
 * allocation. */
#include "tunnel/datapath.h"
#include "tunnel/ip_hdr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "net/conn.h"
#include "tunnel/client_packet.h"
#include "tunnel/cstp_frame.h"
#include "tunnel/lane.h"
#include "hashmap.h"
#include "util/log.h"
#include "server.h"
#include "session/limits.h"
#include "session/session.h"
#include "tunnel/iroute.h"
#include "util/route_filter.h"

/* Reads per wakeup, and packets (after splitting super-packets): enough to
 * amortise the wakeup, bounded so other events get their turn. */
#define TUN_BURST 64
#define TUN_BURST_PKTS 1024

_Static_assert(WG_TUN_HEADROOM >= WG_CSTP_HEADER_LEN, "no room for the CSTP header before TUN packets");

static struct wg_session *owner_of(struct wg_server *srv, const uint8_t *pkt, size_t len)
{
	struct wg_session *s = NULL;
	int family = wg_ip_family(pkt, len);

	if (family == 4)
		s = wg_hashmap_get(srv->by_addr4, pkt + WG_IP4_DST);
	else if (family == 6)
		s = wg_hashmap_get(srv->by_addr6, pkt + WG_IP6_DST);
	else
		return NULL;
	/* Not a leased address: a network behind a client (iroute)? */
	if (!s && srv->iroutes)
		s = wg_iroute_owner(srv, family, family == 4 ? pkt + WG_IP4_DST : pkt + WG_IP6_DST);
	return s;
}

/* A token bucket: refilled at the limit, with 200 ms (at least 64 KiB) of
 * burst so TCP inside the tunnel sees a steady rate, not stalls. Packets
 * over the limit are dropped, as a shaping router would. */
static bool rate_allows(struct wg_rate *r, uint32_t kbps, size_t len)
{
	struct timespec ts;
	double per_us, burst;
	uint64_t now;

	if (!kbps)
		return true;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	per_us = kbps * 125.0 / 1e6; /* kbit/s -> bytes per microsecond */
	burst = kbps * 125.0 / 5 > 65536 ? kbps * 125.0 / 5 : 65536;
	if (r->last_us == 0)
		r->tokens = burst;
	else
		r->tokens += (double)(now - r->last_us) * per_us;
	if (r->tokens > burst)
		r->tokens = burst;
	r->last_us = now;
	if (r->tokens < (double)len)
		return false;
	r->tokens -= (double)len;
	return true;
}

/* CSTP: every packet is its own TLS record, as openconnect requires (it
 * takes each record it reads for exactly one CSTP frame and drops a record
 * holding several). What can be batched is the system call: the connection
 * is corked while one TUN read's packets are encrypted, so the records of a
 * 64 KB super-packet leave in one writev instead of one send each. */
struct tun_burst {
	struct wg_server *srv;
	unsigned pkts;
	struct wg_conn *cstp; /* corked until the end of the current read */
};

static void cstp_release(struct tun_burst *b)
{
	if (!b->cstp)
		return;
	wg_conn_uncork(b->cstp);
	b->cstp = NULL;
}

/* frame has WG_CSTP_HEADER_LEN bytes of headroom, then the packet. */
static int cstp_send(struct tun_burst *b, struct wg_conn *c, uint8_t *frame, size_t len)
{
	if (c->state != WG_CONN_CSTP)
		return -1;
	if (b->cstp != c) {
		cstp_release(b);
		b->cstp = c;
		wg_conn_cork(c);
	}
	wg_cstp_header(frame, WG_CSTP_DATA, (uint16_t)len);
	return wg_conn_send(c, frame, WG_CSTP_HEADER_LEN + len);
}

/* pkt has WG_TUN_HEADROOM writable bytes before it. */
/* The session's quota, or its user's for the period: what the shared
 * table had at the last flush (session/period_quota.h) plus what this
 * session moved since. */
static inline bool over_quota(const struct wg_session *s)
{
	uint64_t moved = s->rx_bytes + s->tx_bytes;

	return (s->quota_bytes && moved >= s->quota_bytes) ||
	       (s->period_quota && s->period_base + (moved - s->period_flushed) >= s->period_quota);
}

static void send_to_client(struct tun_burst *b, struct wg_session *s, uint8_t *pkt, size_t len)
{
	if (!rate_allows(&s->rate_out, s->rate_out_kbps, len))
		return;
	/* Queued for the lane's transport, which gets the batch later; a
	 * packet larger than the lane takes goes over CSTP. */
	if (s->active && wg_lane_queue(s->active, pkt, len))
		goto sent;
	if (s->cstp && cstp_send(b, s->cstp, pkt - WG_CSTP_HEADER_LEN, len) == 0)
		goto sent;
	return; /* no channel up: dropped, as a router would */
sent:
	s->tx_bytes += len;
	s->tx_pkts++;
	if (over_quota(s))
		wg_session_quota_reached(s);
}

/* One plain IP packet from the TUN device (a super-packet arrives here
 * already cut into segments), with WG_TUN_HEADROOM bytes before it. */
static void tun_packet(void *arg, uint8_t *pkt, size_t len)
{
	struct tun_burst *b = arg;
	struct wg_session *s;

	b->pkts++;
	if (len > 0xffff)
		return;
	s = owner_of(b->srv, pkt, len);
	if (s)
		send_to_client(b, s, pkt, len);
}

void wg_datapath_tun_readable(struct wg_server *srv)
{
	struct tun_burst burst = {.srv = srv}, *b = &burst;

	for (int i = 0; i < TUN_BURST && b->pkts < TUN_BURST_PKTS; i++) {
		int r = wg_tun_read_split(&srv->tun, tun_packet, b);
		/* What one read produced leaves now: a super-packet's worth of
		 * CSTP records in one writev (lanes: at the end of the burst). */
		cstp_release(b);
		if (r < 0) {
			if (errno != EAGAIN && errno != EINTR)
				wg_log(NULL, WG_LOG_ERROR, "reading %s: %s", srv->tun.name, strerror(errno));
			break;
		}
	}
	wg_lanes_flush(srv);
}

static bool in_pool4(const struct wg_server *srv, const uint8_t *addr)
{
	uint32_t a;

	memcpy(&a, addr, 4);
	a = ntohl(a);
	return srv->mask4 && (a & srv->mask4) == srv->net4 && a != (srv->net4 | 1);
}

void wg_datapath_from_client(struct wg_session *s, const uint8_t *pkt, size_t len)
{
	struct wg_server *srv = s->srv;
	struct wg_packet_owner owner = {.addr4 = s->addr4, .has_addr6 = s->has_addr6};
	const uint8_t *dst;
	int family;

	memcpy(owner.addr6, s->addr6, sizeof(owner.addr6));
	enum wg_packet_verdict v = wg_client_packet_check(pkt, len, &owner, &family, &dst);
	if (v == WG_PACKET_SPOOFED && srv->iroutes && wg_iroute_source_ok(s, pkt, len)) {
		/* From a network behind the client (iroute): its own. */
		family = (pkt[0] >> 4) == 4 ? 4 : 6;
		dst = family == 4 ? pkt + 16 : pkt + 24;
		v = WG_PACKET_OK;
	}
	if (v != WG_PACKET_OK)
		return; /* malformed, spoofed or a stale source address: dropped */
	/* A leased address outside the default pool is a vhost's client. */
	if (srv->isolate && (family == 4 ? in_pool4(srv, dst) || (srv->vhosts_on && wg_hashmap_get(srv->by_addr4, dst))
					 : wg_hashmap_get(srv->by_addr6, dst) != NULL))
		return; /* to another client, with isolate-clients on */
	if (s->filter && !wg_route_filter_allows(s->filter, pkt, len)) {
		s->filtered_pkts++; /* restrict-user-to-routes / -ports */
		return;
	}
	if (!rate_allows(&s->rate_in, s->rate_in_kbps, len))
		return;
	s->rx_bytes += len;
	s->rx_pkts++;
	if (over_quota(s))
		wg_session_quota_reached(s);
	/* Every check above ran on this packet as the client sent it; only
	 * then may it be merged with its flow's neighbours. */
	wg_tun_queue(&srv->tun, pkt, len);
}

void wg_datapath_rx_begin(struct wg_server *srv)
{
	wg_tun_queue_begin(&srv->tun);
}

void wg_datapath_rx_end(struct wg_server *srv)
{
	wg_tun_flush(&srv->tun);
}
