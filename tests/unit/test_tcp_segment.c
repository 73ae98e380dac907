/* Splitting TUN super-packets: every segment's lengths, IDs, sequence
 * numbers, flags and checksums, checked against a reference checksum, and
 * refusal of headers the kernel should never send. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/inet_csum.h"
#include "pkt_build.h"
#include "tunnel/tcp_segment.h"

#define HEADROOM 16
#define MAXSEG 256

struct collected {
	unsigned n;
	size_t len[MAXSEG];
	uint8_t *pkt[MAXSEG];
	const uint8_t *where[MAXSEG];
	bool headroom_ok;
};

static void collect(void *arg, uint8_t *pkt, size_t len)
{
	struct collected *c = arg;

	cr_assert_lt(c->n, MAXSEG);
	/* The headroom must be writable. */
	memset(pkt - HEADROOM, 0xee, HEADROOM);
	c->where[c->n] = pkt;
	c->pkt[c->n] = malloc(len);
	memcpy(c->pkt[c->n], pkt, len);
	c->len[c->n++] = len;
}

static void release(struct collected *c)
{
	for (unsigned i = 0; i < c->n; i++)
		free(c->pkt[i]);
}

static uint8_t scratch[HEADROOM + WG_GSO_SCRATCH_MIN];
/* Plain packets are passed in place, with the caller's headroom before
 * them: the input buffers keep HEADROOM free bytes in front. */
static uint8_t in_mem[HEADROOM + 70000];
#define in (in_mem + HEADROOM)

static int split(const struct wg_vnet_hdr *h, uint8_t *pkt, size_t len, struct collected *c)
{
	memset(c, 0, sizeof(*c));
	return wg_gso_split(h, pkt, len, scratch, sizeof(scratch), HEADROOM, collect, c);
}

Test(csum, matches_reference_for_all_lengths_and_offsets)
{
	uint8_t buf[300];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len++) {
			uint16_t fast = wg_csum_fold(wg_csum_add(0, buf + off, len));
			uint16_t slow = (uint16_t)ref_sum(buf + off, len, 0);
			uint8_t b[2];
			memcpy(b, &fast, 2); /* memory order: the wire bytes */
			cr_assert_eq(ref_rd16(b), slow, "off %zu len %zu", off, len);
		}
}

static void check_tcp_split(int family, size_t optlen, size_t payload, uint16_t mss, uint8_t flags, uint16_t id0,
			    uint32_t seq0, bool ecn)
{
	struct tcp_spec t = {.family = family, .seq = seq0, .ack = 777, .flags = flags, .id = id0, .optlen = optlen};
	size_t len = build_tcp(in, &t, payload), ihl = family == 4 ? 20 : 40, hl = ihl + 20 + optlen;
	struct wg_vnet_hdr h = {.flags = WG_VNET_F_NEEDS_CSUM,
				.gso_type = (uint8_t)((family == 4 ? WG_VNET_GSO_TCPV4 : WG_VNET_GSO_TCPV6) |
						      (ecn ? WG_VNET_GSO_ECN : 0)),
				.hdr_len = (uint16_t)hl,
				.gso_size = mss,
				.csum_start = (uint16_t)ihl,
				.csum_offset = 16};
	struct collected c;
	size_t expect = (payload + mss - 1) / mss, total = 0;

	/* As the kernel hands it: a partial (pseudo-header) checksum. */
	in[ihl + 16] = in[ihl + 17] = 0x5a;
	cr_assert_eq(split(&h, in, len, &c), (int)expect);
	cr_assert_eq(c.n, expect);
	for (unsigned i = 0; i < c.n; i++) {
		const uint8_t *p = c.pkt[i], *th = p + ihl;
		size_t pl = c.len[i] - hl;
		cr_assert(c.where[i] >= scratch + HEADROOM && c.where[i] + c.len[i] <= scratch + sizeof(scratch));
		cr_assert_eq(pl, i + 1 < c.n ? mss : payload - (size_t)mss * (c.n - 1), "segment %u size", i);
		if (family == 4) {
			cr_assert_eq(ref_rd16(p + 2), c.len[i], "IPv4 total length");
			cr_assert_eq(ref_rd16(p + 4), (uint16_t)(id0 + i), "IPv4 ID");
		} else {
			cr_assert_eq(ref_rd16(p + 4), c.len[i] - 40, "IPv6 payload length");
		}
		cr_assert_eq(ref_rd32(th + 4), seq0 + (uint32_t)(i * mss), "sequence");
		cr_assert_eq(ref_rd32(th + 8), 777u);
		uint8_t want = flags;
		if (i + 1 < c.n)
			want &= (uint8_t)~0x09; /* FIN, PSH only on the last */
		if (i > 0)
			want &= (uint8_t)~0x80; /* CWR only on the first */
		cr_assert_eq(th[13], want, "flags of segment %u: %#x", i, th[13]);
		cr_assert(ref_checksums_ok(p, c.len[i]), "checksums of segment %u", i);
		for (size_t k = 0; k < pl; k++)
			cr_assert_eq(p[hl + k], stream_byte(seq0 + (uint32_t)(i * mss + k)));
		total += pl;
	}
	cr_assert_eq(total, payload);
	release(&c);
}

Test(gso, tcp4_segments)
{
	check_tcp_split(4, 12, 5000, 1448, 0x10 | 0x08 | 0x01 | 0x80, 0xfffe, 0xfffff000u, true);
	check_tcp_split(4, 0, 64000, 1460, 0x18, 1, 1, false);
	check_tcp_split(4, 40, 2896, 1448, 0x10, 7, 99, false); /* exact multiple */
	check_tcp_split(4, 0, 1, 1400, 0x18, 7, 99, false);     /* one byte */
}

Test(gso, tcp6_segments_odd_lengths)
{
	check_tcp_split(6, 12, 4097, 1428, 0x10 | 0x08 | 0x80, 0, 123456, true);
	check_tcp_split(6, 0, 65000, 1440, 0x19, 0, 0xfffffff0u, false);
	check_tcp_split(6, 4, 3, 1, 0x18, 0, 5, false); /* MSS 1 */
}

static void check_udp_split(int family, size_t payload, uint16_t size)
{
	size_t len = build_udp(in, family, payload), ihl = family == 4 ? 20 : 40;
	struct wg_vnet_hdr h = {.flags = WG_VNET_F_NEEDS_CSUM,
				.gso_type = WG_VNET_GSO_UDP_L4,
				.gso_size = size,
				.csum_start = (uint16_t)ihl,
				.csum_offset = 6};
	struct collected c;
	size_t expect = (payload + size - 1) / size;

	cr_assert_eq(split(&h, in, len, &c), (int)expect);
	for (unsigned i = 0; i < c.n; i++) {
		const uint8_t *p = c.pkt[i];
		size_t pl = c.len[i] - ihl - 8;
		cr_assert_eq(ref_rd16(p + ihl + 4), pl + 8, "UDP length");
		cr_assert(ref_checksums_ok(p, c.len[i]), "UDP segment %u checksum", i);
		cr_assert_neq(ref_rd16(p + ihl + 6), 0, "a computed UDP checksum is never 0");
		for (size_t k = 0; k < pl; k++)
			cr_assert_eq(p[ihl + 8 + k], stream_byte((uint32_t)(i * size + k)));
	}
	release(&c);
}

Test(gso, udp_segments)
{
	check_udp_split(4, 10001, 1200);
	check_udp_split(6, 3000, 1000);
}

Test(gso, needs_csum_completed_for_plain_packets)
{
	struct collected c;
	size_t len = build_udp(in, 4, 333);
	uint8_t good[2];
	struct wg_vnet_hdr h = {.flags = WG_VNET_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 6};
	uint16_t partial;

	memcpy(good, in + 26, 2);
	/* What the kernel leaves: the folded pseudo-header sum. */
	partial = (uint16_t)ref_pseudo(in, 17, len - 20);
	ref_wr16(in + 26, partial);
	cr_assert_eq(split(&h, in, len, &c), 1);
	cr_assert_eq(c.where[0], in, "a plain packet is passed in place");
	cr_assert(ref_checksums_ok(c.pkt[0], len));
	cr_assert_eq(memcmp(c.pkt[0] + 26, good, 2), 0);
	release(&c);

	struct tcp_spec t = {.family = 6, .seq = 1, .flags = 0x18};
	len = build_tcp(in, &t, 1001);
	ref_wr16(in + 56, (uint16_t)ref_pseudo(in, 6, len - 40));
	h.csum_start = 40;
	h.csum_offset = 16;
	cr_assert_eq(split(&h, in, len, &c), 1);
	cr_assert(ref_checksums_ok(c.pkt[0], len));
	release(&c);
}

Test(gso, plain_packets_pass_unchanged)
{
	struct collected c;
	struct wg_vnet_hdr h = {0};
	uint8_t icmp_mem[HEADROOM + 84] = {0};
	uint8_t *icmp = icmp_mem + HEADROOM;
	const uint8_t hdr[10] = {0x45, 0, 0, 84, 0, 0, 0, 0, 64, 1};

	memcpy(icmp, hdr, sizeof(hdr));

	cr_assert_eq(split(&h, icmp, 84, &c), 1);
	cr_assert_eq(c.where[0], icmp);
	cr_assert_eq(c.len[0], 84);
	release(&c);
	/* DATA_VALID alone changes nothing. */
	h.flags = WG_VNET_F_DATA_VALID;
	cr_assert_eq(split(&h, icmp, 84, &c), 1);
	release(&c);
}

Test(gso, malformed_headers_refused_without_output)
{
	struct collected c;
	struct tcp_spec t4 = {.family = 4, .seq = 1, .flags = 0x10}, t6 = {.family = 6, .seq = 1, .flags = 0x10};
	size_t len4 = build_tcp(in, &t4, 3000);
	struct wg_vnet_hdr h = {.flags = 1, .gso_type = WG_VNET_GSO_TCPV6, .gso_size = 1000, .csum_start = 20,
				.csum_offset = 16};

	cr_assert_eq(split(&h, in, len4, &c), WG_GSO_BAD_HDR, "TCPV6 on an IPv4 packet");
	cr_assert_eq(c.n, 0);
	h.gso_type = WG_VNET_GSO_TCPV4;
	h.gso_size = 0;
	cr_assert_eq(split(&h, in, len4, &c), WG_GSO_BAD_HDR, "gso_size 0");
	h.gso_size = 65535;
	cr_assert_eq(split(&h, in, len4, &c), WG_GSO_BAD_HDR, "segments over 64 KB");
	h.gso_size = 1000;
	h.gso_type = WG_VNET_GSO_UDP;
	cr_assert_eq(split(&h, in, len4, &c), WG_GSO_UNSUPPORTED, "UFO");
	h.gso_type = 7;
	cr_assert_eq(split(&h, in, len4, &c), WG_GSO_BAD_HDR, "unknown type");
	h.gso_type = WG_VNET_GSO_UDP_L4;
	cr_assert_eq(split(&h, in, len4, &c), WG_GSO_BAD_PACKET, "USO on TCP");
	h.gso_type = WG_VNET_GSO_TCPV4;
	cr_assert_eq(split(&h, in, 30, &c), WG_GSO_BAD_PACKET, "TCP header cut");
	cr_assert_eq(split(&h, in, 10, &c), WG_GSO_BAD_PACKET, "IP header cut");
	in[6] = 0x20; /* MF */
	cr_assert_eq(split(&h, in, len4, &c), WG_GSO_BAD_PACKET, "fragment");
	in[6] = 0x40;
	in[32] = 0x40; /* data offset 4 words */
	cr_assert_eq(split(&h, in, len4, &c), WG_GSO_BAD_PACKET, "TCP data offset < 5");
	in[32] = 0xf0; /* 60 bytes of TCP header, more than the packet's 52? no: fits */
	cr_assert_eq(split(&h, in, 60, &c), WG_GSO_BAD_PACKET, "TCP header beyond the packet");
	in[0] = 0x4f; /* IHL 60 */
	cr_assert_eq(split(&h, in, 50, &c), WG_GSO_BAD_PACKET, "IPv4 header beyond the packet");
	in[0] = 0x44; /* IHL 16 < 20 */
	cr_assert_eq(split(&h, in, len4, &c), WG_GSO_BAD_PACKET, "IHL < 5");
	cr_assert_eq(c.n, 0);

	size_t len6 = build_tcp(in, &t6, 3000);
	h.gso_type = WG_VNET_GSO_TCPV6;
	in[6] = 0; /* hop-by-hop options header before TCP */
	cr_assert_eq(split(&h, in, len6, &c), WG_GSO_BAD_PACKET, "IPv6 extension header");
	in[6] = 6;
	in[0] = 0x50; /* version 5 */
	cr_assert_eq(split(&h, in, len6, &c), WG_GSO_BAD_PACKET, "not IP");

	/* NEEDS_CSUM pointing outside the packet. */
	struct wg_vnet_hdr p = {.flags = WG_VNET_F_NEEDS_CSUM, .csum_start = 100, .csum_offset = 16};
	cr_assert_eq(split(&p, in, 110, &c), WG_GSO_BAD_HDR);
	p.csum_start = 65535;
	p.csum_offset = 65535;
	cr_assert_eq(split(&p, in, 110, &c), WG_GSO_BAD_HDR);
	cr_assert_eq(split(&p, in, 0, &c), WG_GSO_BAD_PACKET);
	cr_assert_eq(c.n, 0);
	/* A scratch buffer too small is refused, not overrun. */
	h.gso_type = WG_VNET_GSO_TCPV4;
	len4 = build_tcp(in, &t4, 3000);
	cr_assert_eq(wg_gso_split(&h, in, len4, scratch, 1000, HEADROOM, collect, &c), WG_GSO_BAD_HDR);
}
