/* Software segmentation of TUN super-packets (TSO/USO done in userspace).
 *
 * The kernel hands a TCP super-packet with one IP and one TCP header and up
 * to 64 KB of payload, and gso_size, the payload per segment (the MSS). Each
 * segment gets a copy of the headers with, as a NIC doing TSO would:
 * - IPv4: total length, ID = first ID + segment index, header checksum;
 *   IPv6: payload length;
 * - TCP: sequence number advanced by the payload before it; FIN and PSH
 *   only on the last segment, CWR only on the first;
 * - UDP (USO): length;
 * - the full L4 checksum (pseudo-header included), never a partial one:
 *   these packets leave inside the tunnel and the client verifies them.
 * The checksum field the kernel left (a pseudo-header sum over the whole
 * super-packet) is ignored and recomputed per segment.
 *
 * Only the layouts the kernel produces for GSO are accepted: IPv4 without
 * fragmentation, IPv6 whose next header is TCP/UDP itself. Anything else
 * is refused (the caller drops it and counts it) rather than guessed at. */
#include "tunnel/tcp_segment.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "tunnel/inet_csum.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80
#define PROTO_TCP 6
#define PROTO_UDP 17

struct layout {
	int family;    /* 4 or 6 */
	size_t l4off;  /* start of the TCP/UDP header */
	size_t hdrlen; /* IP + L4 headers */
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* IP header then a TCP (proto 6) or UDP (17) header directly after it. */
static bool parse_layout(const uint8_t *pkt, size_t len, uint8_t proto, struct layout *o)
{
	if (len >= 20 && (pkt[0] >> 4) == 4) {
		size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
		if (ihl < 20 || ihl > len || pkt[9] != proto)
			return false;
		if ((pkt[6] & 0x3f) || pkt[7]) /* MF or a fragment offset */
			return false;
		o->family = 4;
		o->l4off = ihl;
	} else if (len >= 40 && (pkt[0] >> 4) == 6) {
		if (pkt[6] != proto)
			return false; /* extension headers: not produced for GSO here */
		o->family = 6;
		o->l4off = 40;
	} else {
		return false;
	}
	if (proto == PROTO_TCP) {
		size_t doff;
		if (o->l4off + 20 > len)
			return false;
		doff = (size_t)(pkt[o->l4off + 12] >> 4) * 4;
		if (doff < 20 || o->l4off + doff > len)
			return false;
		o->hdrlen = o->l4off + doff;
	} else {
		if (o->l4off + 8 > len)
			return false;
		o->hdrlen = o->l4off + 8;
	}
	return true;
}

int wg_csum_complete(uint8_t *pkt, size_t len, uint16_t csum_start, uint16_t csum_offset)
{
	uint16_t c;

	if ((size_t)csum_start + csum_offset + 2 > len)
		return -1;
	/* The field holds the pseudo-header sum: it is inside the summed range. */
	c = wg_csum_finish(wg_csum_add(0, pkt + csum_start, len - csum_start));
	if (c == 0)
		c = 0xffff; /* as the kernel does: 0 means "no checksum" for UDP */
	memcpy(pkt + csum_start + csum_offset, &c, 2);
	return 0;
}

int wg_gso_split(const struct wg_vnet_hdr *h, uint8_t *pkt, size_t len, uint8_t *scratch, size_t scratch_len,
		 size_t headroom, wg_seg_fn emit, void *arg)
{
	uint8_t type = h->gso_type & (uint8_t)~WG_VNET_GSO_ECN;
	uint8_t proto;
	struct layout ly;
	size_t payload, nseg, gso = h->gso_size;
	uint8_t *out;
	uint16_t id0;
	uint32_t seq0;

	if (type == WG_VNET_GSO_NONE) {
		if (len == 0)
			return WG_GSO_BAD_PACKET;
		if ((h->flags & WG_VNET_F_NEEDS_CSUM) && wg_csum_complete(pkt, len, h->csum_start, h->csum_offset) < 0)
			return WG_GSO_BAD_HDR;
		emit(arg, pkt, len);
		return 1;
	}
	if (type == WG_VNET_GSO_UDP)
		return WG_GSO_UNSUPPORTED;
	if (type != WG_VNET_GSO_TCPV4 && type != WG_VNET_GSO_TCPV6 && type != WG_VNET_GSO_UDP_L4)
		return WG_GSO_BAD_HDR;
	proto = type == WG_VNET_GSO_UDP_L4 ? PROTO_UDP : PROTO_TCP;
	if (!parse_layout(pkt, len, proto, &ly))
		return WG_GSO_BAD_PACKET;
	if ((type == WG_VNET_GSO_TCPV4 && ly.family != 4) || (type == WG_VNET_GSO_TCPV6 && ly.family != 6))
		return WG_GSO_BAD_HDR;
	if (gso == 0 || ly.hdrlen + gso > 65535 || scratch_len < headroom + WG_GSO_SCRATCH_MIN)
		return WG_GSO_BAD_HDR;

	payload = len - ly.hdrlen;
	nseg = payload ? (payload + gso - 1) / gso : 1;
	out = scratch + headroom;
	id0 = ly.family == 4 ? get16(pkt + 4) : 0;
	seq0 = proto == PROTO_TCP ? get32(pkt + ly.l4off + 4) : 0;
	for (size_t i = 0; i < nseg; i++) {
		size_t off = i * gso;
		size_t n = payload - off < gso ? payload - off : gso;
		size_t seglen = ly.hdrlen + n, l4len = seglen - ly.l4off;
		uint8_t *l4 = out + ly.l4off;
		uint16_t c;

		memcpy(out, pkt, ly.hdrlen);
		memcpy(out + ly.hdrlen, pkt + ly.hdrlen + off, n);
		if (ly.family == 4) {
			put16(out + 2, (uint16_t)seglen);
			put16(out + 4, (uint16_t)(id0 + i));
			c = wg_csum_ipv4_header(out, ly.l4off);
			memcpy(out + 10, &c, 2);
		} else {
			put16(out + 4, (uint16_t)(seglen - 40));
		}
		if (proto == PROTO_TCP) {
			uint8_t flags = l4[13];
			put32(l4 + 4, seq0 + (uint32_t)off);
			if (i + 1 < nseg)
				flags &= (uint8_t)~(TCP_FIN | TCP_PSH);
			if (i > 0)
				flags &= (uint8_t)~TCP_CWR;
			l4[13] = flags;
			l4[16] = l4[17] = 0;
			c = wg_csum_finish(wg_csum_add(wg_csum_pseudo(ly.family, out + (ly.family == 4 ? 12 : 8),
								      out + (ly.family == 4 ? 16 : 24), PROTO_TCP,
								      (uint32_t)l4len),
						       l4, l4len));
			memcpy(l4 + 16, &c, 2);
		} else {
			put16(l4 + 4, (uint16_t)l4len);
			l4[6] = l4[7] = 0;
			c = wg_csum_finish(wg_csum_add(wg_csum_pseudo(ly.family, out + (ly.family == 4 ? 12 : 8),
								      out + (ly.family == 4 ? 16 : 24), PROTO_UDP,
								      (uint32_t)l4len),
						       l4, l4len));
			if (c == 0)
				c = 0xffff;
			memcpy(l4 + 6, &c, 2);
		}
		emit(arg, out, seglen);
	}
	return (int)nseg;
}
