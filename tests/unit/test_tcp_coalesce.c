/* Userspace GRO: which segments merge, what the merged packet and its
 * virtio header look like, and that the segmenter turns it back into the
 * exact original packets (so nothing the client sent is changed). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "pkt_build.h"
#include "tunnel/tcp_coalesce.h"
#include "tunnel/tcp_segment.h"

#define MAXOUT 1024

struct out {
	unsigned n;
	struct wg_vnet_hdr h[MAXOUT];
	uint8_t *pkt[MAXOUT];
	size_t len[MAXOUT];
};

static void emit(void *arg, const struct wg_vnet_hdr *h, const uint8_t *pkt, size_t len)
{
	struct out *o = arg;

	cr_assert_lt(o->n, MAXOUT);
	o->h[o->n] = *h;
	o->pkt[o->n] = malloc(len);
	memcpy(o->pkt[o->n], pkt, len);
	o->len[o->n++] = len;
}

static void release(struct out *o)
{
	for (unsigned i = 0; i < o->n; i++)
		free(o->pkt[i]);
	memset(o, 0, sizeof(*o));
}

/* Originals kept to compare the round trip with. */
static uint8_t orig[128][2048];
static size_t orig_len[128];

static struct out resplit_out;
static uint8_t scratch[16 + WG_GSO_SCRATCH_MIN];

static void resplit_collect(void *arg, uint8_t *pkt, size_t len)
{
	struct wg_vnet_hdr none = {0};
	(void)arg;
	emit(&resplit_out, &none, pkt, len);
}

/* Splits emitted packet i back into plain packets (in resplit_out). */
static void resplit(struct out *o, unsigned i)
{
	uint8_t *copy = malloc(o->len[i] + 16);
	memcpy(copy + 16, o->pkt[i], o->len[i]);
	memset(&resplit_out, 0, sizeof(resplit_out));
	cr_assert_gt(wg_gso_split(&o->h[i], copy + 16, o->len[i], scratch, sizeof(scratch), 16, resplit_collect, NULL), 0);
	free(copy);
}

static void send_flow(struct wg_gro *g, int family, unsigned n, size_t mss, size_t last, uint8_t last_flags)
{
	struct tcp_spec t = {.family = family, .seq = 0xfffffa00u, .ack = 42, .flags = 0x10, .id = 0xfffd, .optlen = 12};

	for (unsigned i = 0; i < n; i++) {
		size_t pl = i + 1 == n ? last : mss;
		if (i + 1 == n)
			t.flags = last_flags;
		orig_len[i] = build_tcp(orig[i], &t, pl);
		wg_gro_add(g, orig[i], orig_len[i]);
		t.seq += (uint32_t)pl;
		t.id++;
	}
}

static void check_roundtrip(int family)
{
	struct out o = {0};
	struct wg_gro *g = wg_gro_new(emit, &o);
	size_t ihl = family == 4 ? 20 : 40;

	send_flow(g, family, 10, 1000, 500, 0x18);
	/* The short, pushed last segment ends the packet at once. */
	cr_assert_eq(o.n, 1);
	cr_assert(!wg_gro_pending(g));
	cr_assert_eq(o.h[0].gso_type, family == 4 ? WG_VNET_GSO_TCPV4 : WG_VNET_GSO_TCPV6);
	cr_assert_eq(o.h[0].flags, WG_VNET_F_NEEDS_CSUM);
	cr_assert_eq(o.h[0].gso_size, 1000);
	cr_assert_eq(o.h[0].hdr_len, ihl + 32);
	cr_assert_eq(o.h[0].csum_start, ihl);
	cr_assert_eq(o.h[0].csum_offset, 16);
	cr_assert_eq(o.len[0], ihl + 32 + 9500);
	/* IP length and header checksum of the whole; the TCP field holds the
	 * uncomplemented pseudo-header sum. */
	if (family == 4) {
		cr_assert_eq(ref_rd16(o.pkt[0] + 2), o.len[0]);
		cr_assert_eq(ref_sum(o.pkt[0], 20, 0), 0xffff);
	} else {
		cr_assert_eq(ref_rd16(o.pkt[0] + 4), o.len[0] - 40);
	}
	cr_assert_eq(ref_rd16(o.pkt[0] + ihl + 16), ref_pseudo(o.pkt[0], 6, o.len[0] - ihl));
	cr_assert_eq(o.pkt[0][ihl + 13], 0x18, "PSH of the last segment kept");
	/* Cut again, it is exactly what the client sent. */
	resplit(&o, 0);
	cr_assert_eq(resplit_out.n, 10);
	for (unsigned i = 0; i < 10; i++) {
		cr_assert_eq(resplit_out.len[i], orig_len[i]);
		cr_assert_eq(memcmp(resplit_out.pkt[i], orig[i], orig_len[i]), 0, "segment %u differs", i);
	}
	release(&resplit_out);
	release(&o);
	wg_gro_free(g);
}

Test(gro, ipv4_roundtrip)
{
	check_roundtrip(4);
}

Test(gro, ipv6_roundtrip)
{
	check_roundtrip(6);
}

Test(gro, equal_segments_wait_for_flush)
{
	struct out o = {0};
	struct wg_gro *g = wg_gro_new(emit, &o);

	send_flow(g, 4, 5, 1400, 1400, 0x10);
	cr_assert_eq(o.n, 0);
	cr_assert(wg_gro_pending(g));
	wg_gro_flush(g);
	cr_assert_eq(o.n, 1);
	cr_assert_eq(o.len[0], 20 + 32 + 5 * 1400);
	cr_assert_eq(o.h[0].gso_size, 1400);
	release(&o);
	wg_gro_free(g);
}

Test(gro, single_segment_unchanged)
{
	struct out o = {0};
	struct wg_gro *g = wg_gro_new(emit, &o);

	send_flow(g, 4, 1, 1400, 1400, 0x10);
	wg_gro_flush(g);
	cr_assert_eq(o.n, 1);
	cr_assert_eq(o.h[0].gso_type, 0);
	cr_assert_eq(o.h[0].flags, 0);
	cr_assert_eq(memcmp(o.pkt[0], orig[0], orig_len[0]), 0);
	release(&o);
	wg_gro_free(g);
}

Test(gro, gap_and_bigger_segment_start_a_new_packet)
{
	struct out o = {0};
	struct wg_gro *g = wg_gro_new(emit, &o);
	struct tcp_spec t = {.family = 4, .seq = 1000, .flags = 0x10};
	uint8_t p[3000];
	size_t n;

	n = build_tcp(p, &t, 1000);
	wg_gro_add(g, p, n);
	t.seq += 1000;
	n = build_tcp(p, &t, 1000);
	wg_gro_add(g, p, n);
	t.seq += 1500; /* a hole: not the continuation */
	n = build_tcp(p, &t, 1000);
	wg_gro_add(g, p, n);
	cr_assert_eq(o.n, 1, "the first two went out when the gap came");
	cr_assert_eq(o.h[0].gso_size, 1000);
	t.seq += 1000;
	n = build_tcp(p, &t, 1200); /* larger than the flow's size */
	wg_gro_add(g, p, n);
	cr_assert_eq(o.n, 2);
	cr_assert_eq(o.h[1].gso_type, 0, "one segment alone goes out unchanged");
	wg_gro_flush(g);
	cr_assert_eq(o.n, 3);
	cr_assert_eq(o.len[2], 20 + 20 + 1200);
	release(&o);
	wg_gro_free(g);
}

Test(gro, flows_kept_apart_and_order_within_a_flow_kept)
{
	struct out o = {0};
	struct wg_gro *g = wg_gro_new(emit, &o);
	struct tcp_spec a = {.family = 4, .seq = 1, .flags = 0x10, .sport = 1111};
	struct tcp_spec b = {.family = 4, .seq = 9, .flags = 0x10, .sport = 2222};
	uint8_t p[3000];

	for (int i = 0; i < 4; i++) {
		wg_gro_add(g, p, build_tcp(p, &a, 800));
		a.seq += 800;
		wg_gro_add(g, p, build_tcp(p, &b, 800));
		b.seq += 800;
	}
	cr_assert_eq(o.n, 0);
	/* A pure ACK of flow a: a's pending packet first, then the ACK. */
	a.flags = 0x10;
	wg_gro_add(g, p, build_tcp(p, &a, 0));
	cr_assert_eq(o.n, 2);
	cr_assert_eq(o.len[0], 40 + 4 * 800);
	cr_assert_eq(ref_rd16(o.pkt[0] + 20), 1111);
	cr_assert_eq(o.len[1], 40);
	/* A FIN of flow b: the same. */
	b.flags = 0x11;
	wg_gro_add(g, p, build_tcp(p, &b, 100));
	cr_assert_eq(o.n, 4);
	cr_assert_eq(ref_rd16(o.pkt[2] + 20), 2222);
	cr_assert_eq(o.len[2], 40 + 4 * 800);
	cr_assert_eq(o.pkt[3][33], 0x11);
	/* UDP and ICMP go straight through. */
	wg_gro_add(g, p, build_udp(p, 4, 10));
	cr_assert_eq(o.n, 5);
	release(&o);
	wg_gro_free(g);
}

Test(gro, differing_headers_not_merged)
{
	struct out o = {0};
	struct wg_gro *g = wg_gro_new(emit, &o);
	struct tcp_spec t = {.family = 4, .seq = 1, .flags = 0x10, .optlen = 12, .opt_fill = 1};
	uint8_t p[3000];
	size_t n;

	wg_gro_add(g, p, build_tcp(p, &t, 500));
	t.seq += 500;
	t.opt_fill = 2; /* another timestamp */
	wg_gro_add(g, p, build_tcp(p, &t, 500));
	t.seq += 500;
	t.ack = 5; /* another ACK number */
	wg_gro_add(g, p, build_tcp(p, &t, 500));
	t.seq += 500;
	t.ttl = 3;
	wg_gro_add(g, p, build_tcp(p, &t, 500));
	t.seq += 500;
	t.ttl = 0;
	t.window = 99;
	wg_gro_add(g, p, build_tcp(p, &t, 500));
	wg_gro_flush(g);
	cr_assert_eq(o.n, 5);
	for (unsigned i = 0; i < o.n; i++)
		cr_assert_eq(o.h[i].gso_type, 0);
	release(&o);

	/* A bad TCP checksum passes through unchanged, never merged. */
	t.seq = 1;
	wg_gro_add(g, p, build_tcp(p, &t, 500));
	t.seq += 500;
	n = build_tcp(p, &t, 500);
	p[n - 1] ^= 0xff;
	wg_gro_add(g, p, n);
	wg_gro_flush(g);
	cr_assert_eq(o.n, 2);
	cr_assert_eq(o.h[0].gso_type, 0);
	cr_assert_eq(o.pkt[1][n - 1], p[n - 1]);
	release(&o);

	/* IPv4 options and a bad IP header checksum: passed through. */
	t.seq = 1;
	n = build_tcp(p, &t, 500);
	p[10] ^= 1;
	wg_gro_add(g, p, n);
	wg_gro_add(g, p, n);
	cr_assert_eq(o.n, 2);
	release(&o);
	wg_gro_free(g);
}

Test(gro, many_flows_and_64k_limit)
{
	struct out o = {0};
	struct wg_gro *g = wg_gro_new(emit, &o);
	struct tcp_spec t[12];
	uint8_t p[3000];
	size_t total = 0;

	for (int f = 0; f < 12; f++)
		t[f] = (struct tcp_spec){.family = 6, .seq = (uint32_t)f * 1000000, .flags = 0x10,
					 .sport = (uint16_t)(1000 + f)};
	for (int i = 0; i < 60; i++)
		for (int f = 0; f < 12; f++) {
			wg_gro_add(g, p, build_tcp(p, &t[f], 1400));
			t[f].seq += 1400;
		}
	wg_gro_flush(g);
	for (unsigned i = 0; i < o.n; i++) {
		cr_assert_leq(o.len[i], 65535);
		total += o.len[i] - 60 - (o.h[i].gso_type ? 0 : 0);
		resplit(&o, i);
		for (unsigned k = 0; k < resplit_out.n; k++)
			cr_assert(ref_checksums_ok(resplit_out.pkt[k], resplit_out.len[k]));
		release(&resplit_out);
	}
	/* Every byte came out once: payload totals match. */
	size_t payload = 0;
	for (unsigned i = 0; i < o.n; i++)
		payload += o.len[i] - 60;
	cr_assert_eq(payload, 12u * 60 * 1400);
	(void)total;
	release(&o);
	wg_gro_free(g);
}

Test(gro, malformed_input_is_passed_or_dropped_safely)
{
	struct out o = {0};
	struct wg_gro *g = wg_gro_new(emit, &o);
	uint8_t p[100] = {0x45, 0, 0, 100, 0, 0, 0, 0, 64, 6};

	for (size_t len = 0; len < sizeof(p); len++)
		wg_gro_add(g, p, len);
	p[0] = 0x60;
	p[6] = 6;
	for (size_t len = 0; len < sizeof(p); len++)
		wg_gro_add(g, p, len);
	wg_gro_flush(g);
	cr_assert_eq(o.n, 2 * sizeof(p));
	for (unsigned i = 0; i < o.n; i++)
		cr_assert_eq(o.h[i].gso_type, 0);
	release(&o);
	wg_gro_free(g);
}
