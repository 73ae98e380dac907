/* Userspace GRO for TCP (see tcp_coalesce.h for the rules). A few flows are
 * held at once, each in its own 64 KB buffer: the first segment's headers,
 * then the payloads appended. Flushing a flow of one segment writes it
 * unchanged; of several, fixes the IP length (and IPv4 header checksum),
 * puts the pseudo-header sum of the whole packet into the TCP checksum
 * field, as NEEDS_CSUM expects, and describes the segments in the virtio
 * header. */
#include "tunnel/tcp_coalesce.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/inet_csum.h"

#define GRO_FLOWS 8
#define GRO_MAX 65535 /* an IP packet, and the most a flow's buffer holds */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

struct seg {
	const uint8_t *pkt;
	size_t len;
	int family;
	size_t iphlen, hdrlen; /* IP header; IP + TCP headers */
	size_t payload;
	uint32_t seq;
	uint8_t flags;
};

struct flow {
	bool used;
	int family;
	size_t iphlen, hdrlen, len;
	size_t gso_size;
	uint32_t next_seq;
	unsigned segs;
	unsigned long age; /* for choosing which flow to flush when all are in use */
	uint8_t buf[GRO_MAX];
};

struct wg_gro {
	wg_gro_emit_fn emit;
	void *arg;
	unsigned long clock;
	unsigned pending;
	struct flow flows[GRO_FLOWS];
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

struct wg_gro *wg_gro_new(wg_gro_emit_fn emit, void *arg)
{
	struct wg_gro *g = calloc(1, sizeof(*g));

	if (g) {
		g->emit = emit;
		g->arg = arg;
	}
	return g;
}

void wg_gro_free(struct wg_gro *g)
{
	free(g);
}

int wg_gro_pending(const struct wg_gro *g)
{
	return g->pending > 0;
}

static const struct wg_vnet_hdr plain_hdr; /* all zero: an ordinary packet */

/* The TCP segment's layout if it may be merged at all; false for anything
 * that must pass through as it is. Checksums are verified so a merged
 * packet never carries a checksum the kernel computes over bytes whose
 * original checksum was wrong. */
static bool parse_seg(const uint8_t *pkt, size_t len, struct seg *s)
{
	size_t doff;
	uint64_t sum;

	if (len < 20)
		return false;
	if ((pkt[0] >> 4) == 4) {
		if ((pkt[0] & 0x0f) != 5 || pkt[9] != 6 || get16(pkt + 2) != len)
			return false; /* IP options, not TCP, or padded/cut */
		if ((pkt[6] & 0x3f) || pkt[7])
			return false; /* MF or a fragment offset */
		if (wg_csum_fold(wg_csum_add(0, pkt, 20)) != 0xffff)
			return false;
		s->family = 4;
		s->iphlen = 20;
	} else if ((pkt[0] >> 4) == 6) {
		if (len < 40 || pkt[6] != 6 || (size_t)get16(pkt + 4) + 40 != len)
			return false; /* extension headers, not TCP, or padded/cut */
		s->family = 6;
		s->iphlen = 40;
	} else {
		return false;
	}
	if (s->iphlen + 20 > len)
		return false;
	doff = (size_t)(pkt[s->iphlen + 12] >> 4) * 4;
	if (doff < 20 || s->iphlen + doff >= len) /* no payload: nothing to merge */
		return false;
	s->flags = pkt[s->iphlen + 13];
	if ((s->flags & ~(TCP_ACK | TCP_PSH)) || !(s->flags & TCP_ACK))
		return false;
	sum = wg_csum_pseudo(s->family, pkt + (s->family == 4 ? 12 : 8), pkt + (s->family == 4 ? 16 : 24), 6,
			     (uint32_t)(len - s->iphlen));
	if (wg_csum_fold(wg_csum_add(sum, pkt + s->iphlen, len - s->iphlen)) != 0xffff)
		return false;
	s->pkt = pkt;
	s->len = len;
	s->hdrlen = s->iphlen + doff;
	s->payload = len - s->hdrlen;
	s->seq = get32(pkt + s->iphlen + 4);
	return true;
}

/* Same addresses and ports (the 5-tuple; the protocol is TCP for both). */
static bool same_flow(const struct flow *f, const uint8_t *pkt, int family, size_t iphlen)
{
	const uint8_t *a = f->buf;

	if (f->family != family)
		return false;
	if (family == 4 ? memcmp(a + 12, pkt + 12, 8) != 0 : memcmp(a + 8, pkt + 8, 32) != 0)
		return false;
	return memcmp(a + f->iphlen, pkt + iphlen, 4) == 0;
}

/* Everything but lengths, IDs, checksums, sequence number and PSH equal:
 * the segment could have been cut from the flow's packet. */
static bool headers_match(const struct flow *f, const struct seg *s)
{
	const uint8_t *a = f->buf, *b = s->pkt;
	const uint8_t *ta = a + f->iphlen, *tb = b + s->iphlen;

	if (s->hdrlen != f->hdrlen)
		return false;
	if (s->family == 4) {
		/* TOS; flags/fragment (DF); TTL */
		if (a[1] != b[1] || a[6] != b[6] || a[7] != b[7] || a[8] != b[8])
			return false;
	} else {
		/* version, traffic class, flow label; hop limit */
		if (memcmp(a, b, 4) != 0 || a[7] != b[7])
			return false;
	}
	/* ACK number, data offset, window, urgent pointer, options */
	return memcmp(ta + 8, tb + 8, 5) == 0 && (ta[13] & ~TCP_PSH) == (tb[13] & ~TCP_PSH) &&
	       memcmp(ta + 14, tb + 14, 2) == 0 && memcmp(ta + 18, tb + 18, f->hdrlen - f->iphlen - 18) == 0;
}

static void flush_flow(struct wg_gro *g, struct flow *f)
{
	struct wg_vnet_hdr h = {0};
	uint8_t *p = f->buf;
	uint16_t c;

	if (!f->used)
		return;
	f->used = false;
	g->pending--;
	if (f->segs == 1) {
		g->emit(g->arg, &plain_hdr, p, f->len);
		return;
	}
	if (f->family == 4) {
		put16(p + 2, (uint16_t)f->len);
		c = wg_csum_ipv4_header(p, 20);
		memcpy(p + 10, &c, 2);
	} else {
		put16(p + 4, (uint16_t)(f->len - 40));
	}
	/* NEEDS_CSUM: the field holds the pseudo-header sum, uncomplemented,
	 * over the whole L4 length; the kernel (or the NIC) finishes it per
	 * segment. */
	c = wg_csum_fold(wg_csum_pseudo(f->family, p + (f->family == 4 ? 12 : 8), p + (f->family == 4 ? 16 : 24), 6,
				       (uint32_t)(f->len - f->iphlen)));
	memcpy(p + f->iphlen + 16, &c, 2);
	h.flags = WG_VNET_F_NEEDS_CSUM;
	h.gso_type = f->family == 4 ? WG_VNET_GSO_TCPV4 : WG_VNET_GSO_TCPV6;
	h.hdr_len = (uint16_t)f->hdrlen;
	h.gso_size = (uint16_t)f->gso_size;
	h.csum_start = (uint16_t)f->iphlen;
	h.csum_offset = 16;
	g->emit(g->arg, &h, p, f->len);
}

void wg_gro_flush(struct wg_gro *g)
{
	for (int i = 0; i < GRO_FLOWS && g->pending; i++)
		flush_flow(g, &g->flows[i]);
}

static void start_flow(struct wg_gro *g, struct flow *f, const struct seg *s)
{
	memcpy(f->buf, s->pkt, s->len);
	f->used = true;
	f->family = s->family;
	f->iphlen = s->iphlen;
	f->hdrlen = s->hdrlen;
	f->len = s->len;
	f->gso_size = s->payload;
	f->next_seq = s->seq + (uint32_t)s->payload;
	f->segs = 1;
	f->age = ++g->clock;
	g->pending++;
}

void wg_gro_add(struct wg_gro *g, const uint8_t *pkt, size_t len)
{
	struct seg s;
	struct flow *f = NULL, *free_slot = NULL, *oldest = NULL;
	int family;
	size_t iphlen;

	if (len >= 40 && (pkt[0] >> 4) == 6 && pkt[6] == 6) {
		family = 6;
		iphlen = 40;
	} else if (len >= 20 && (pkt[0] >> 4) == 4 && pkt[9] == 6 && (size_t)(pkt[0] & 0x0f) * 4 >= 20 &&
		   (size_t)(pkt[0] & 0x0f) * 4 + 4 <= len) {
		family = 4;
		iphlen = (size_t)(pkt[0] & 0x0f) * 4;
	} else {
		/* Not TCP: unrelated to any pending flow, so order holds. */
		g->emit(g->arg, &plain_hdr, pkt, len);
		return;
	}
	for (int i = 0; i < GRO_FLOWS; i++) {
		struct flow *x = &g->flows[i];
		if (!x->used) {
			if (!free_slot)
				free_slot = x;
			continue;
		}
		if (!f && iphlen + 4 <= len && same_flow(x, pkt, family, iphlen))
			f = x;
		if (!oldest || x->age < oldest->age)
			oldest = x;
	}
	if (!parse_seg(pkt, len, &s) || (s.flags & TCP_PSH && !f)) {
		/* A SYN, FIN, pure ACK, bad checksum, ...: after its flow's
		 * pending bytes, as it came. A lone PSH segment has nothing to
		 * wait for either. */
		if (f)
			flush_flow(g, f);
		g->emit(g->arg, &plain_hdr, pkt, len);
		return;
	}
	if (f) {
		if (s.seq == f->next_seq && s.payload <= f->gso_size && f->len + s.payload <= GRO_MAX &&
		    headers_match(f, &s)) {
			memcpy(f->buf + f->len, pkt + s.hdrlen, s.payload);
			f->len += s.payload;
			f->next_seq += (uint32_t)s.payload;
			f->segs++;
			if (s.flags & TCP_PSH)
				f->buf[f->iphlen + 13] |= TCP_PSH;
			/* A short or pushed segment is the last of a packet. */
			if (s.payload < f->gso_size || (s.flags & TCP_PSH) || f->len + f->gso_size > GRO_MAX)
				flush_flow(g, f);
			return;
		}
		flush_flow(g, f);
		free_slot = f;
	}
	if (s.flags & TCP_PSH) {
		g->emit(g->arg, &plain_hdr, pkt, len);
		return;
	}
	if (!free_slot) {
		flush_flow(g, oldest);
		free_slot = oldest;
	}
	start_flow(g, free_slot, &s);
}
