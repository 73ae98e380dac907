/* UDP GRO on the DTLS socket (plugins/lib-dtls/udp_gro.c): cutting a
 * received train back into its datagrams, whatever the lengths, the
 * segment size and the cut say; reading the segment size from the control
 * data; and a real train from the kernel (a UDP GSO send over loopback to a
 * socket with UDP_GRO, which the kernel hands over whole). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "udp_gro.h"
#include "udp_sockopt.h"

/* Every datagram of a train, as (offset, length) pairs. */
struct cut {
	size_t off[128], len[128];
	size_t n, total;
};

static enum wg_udp_train_verdict split(uint8_t *buf, size_t cap, size_t len, size_t seg, bool truncated, struct cut *c)
{
	struct wg_udp_train t;
	enum wg_udp_train_verdict v = wg_udp_train_start(&t, buf, cap, len, seg, truncated);
	uint8_t *d;
	size_t n;

	memset(c, 0, sizeof(*c));
	while (wg_udp_train_next(&t, &d, &n)) {
		cr_assert_lt(c->n, 128);
		cr_assert_gt(n, 0, "an empty datagram was given");
		cr_assert_geq(d, buf);
		cr_assert_leq((size_t)(d - buf) + n, len < cap ? len : cap, "a datagram reaches past the data");
		c->off[c->n] = (size_t)(d - buf);
		c->len[c->n++] = n;
		c->total += n;
	}
	return v;
}

static uint8_t buf[65536];

Test(udp_gro, full_segments_and_a_short_last_one)
{
	struct cut c;

	cr_assert_eq(split(buf, sizeof(buf), 5 * 1200 + 77, 1200, false, &c), WG_UDP_TRAIN_WHOLE);
	cr_assert_eq(c.n, 6);
	for (size_t i = 0; i < 5; i++) {
		cr_assert_eq(c.off[i], i * 1200);
		cr_assert_eq(c.len[i], 1200);
	}
	cr_assert_eq(c.off[5], 6000);
	cr_assert_eq(c.len[5], 77);
}

Test(udp_gro, full_segments_only)
{
	struct cut c;

	cr_assert_eq(split(buf, sizeof(buf), 4 * 1422, 1422, false, &c), WG_UDP_TRAIN_WHOLE);
	cr_assert_eq(c.n, 4);
	cr_assert_eq(c.total, 4 * 1422);
	cr_assert_eq(c.len[3], 1422);
}

Test(udp_gro, no_segment_size_is_one_datagram)
{
	struct cut c;

	cr_assert_eq(split(buf, sizeof(buf), 1500, 0, false, &c), WG_UDP_TRAIN_WHOLE);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.len[0], 1500);
}

Test(udp_gro, segment_size_one)
{
	struct cut c;

	cr_assert_eq(split(buf, sizeof(buf), 100, 1, false, &c), WG_UDP_TRAIN_WHOLE);
	cr_assert_eq(c.n, 100);
	cr_assert_eq(c.total, 100);
	cr_assert_eq(c.len[99], 1);
	cr_assert_eq(c.off[99], 99);
}

Test(udp_gro, segment_size_larger_than_the_data_or_the_buffer)
{
	struct cut c;

	cr_assert_eq(split(buf, sizeof(buf), 300, 1400, false, &c), WG_UDP_TRAIN_WHOLE);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.len[0], 300);
	cr_assert_eq(split(buf, 2048, 2048, 100000, false, &c), WG_UDP_TRAIN_WHOLE);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.len[0], 2048);
}

Test(udp_gro, cut_train_gives_the_whole_datagrams_before_the_cut)
{
	struct cut c;

	/* A 4096-byte buffer cut a train of 1000-byte datagrams: four whole,
	 * the fifth cut after 96 bytes is refused. */
	cr_assert_eq(split(buf, 4096, 4096, 1000, true, &c), WG_UDP_TRAIN_CUT);
	cr_assert_eq(c.n, 4);
	cr_assert_eq(c.total, 4000);
	/* cut right at a boundary: what is there is whole */
	cr_assert_eq(split(buf, 4000, 4000, 1000, true, &c), WG_UDP_TRAIN_CUT);
	cr_assert_eq(c.n, 4);
	cr_assert_eq(c.len[3], 1000);
}

Test(udp_gro, cut_single_datagram_is_refused)
{
	struct cut c;

	cr_assert_eq(split(buf, 4096, 4096, 0, true, &c), WG_UDP_TRAIN_BAD);
	cr_assert_eq(c.n, 0);
	/* the first datagram itself is cut: nothing is whole */
	cr_assert_eq(split(buf, 4096, 4096, 5000, true, &c), WG_UDP_TRAIN_BAD);
	cr_assert_eq(c.n, 0);
}

Test(udp_gro, impossible_lengths_are_refused_without_reading)
{
	struct cut c;

	/* a length past the buffer (never from the kernel): nothing is read */
	cr_assert_eq(split(buf, 1000, 1001, 100, false, &c), WG_UDP_TRAIN_BAD);
	cr_assert_eq(c.n, 0);
	cr_assert_eq(split(buf, 1000, 0, 100, false, &c), WG_UDP_TRAIN_BAD);
	cr_assert_eq(c.n, 0);
	cr_assert_eq(split(NULL, 1000, 10, 1, false, &c), WG_UDP_TRAIN_BAD);
	cr_assert_eq(c.n, 0);
}

/* The exact length an allocation has, so ASan sees any read past it. */
Test(udp_gro, no_read_past_a_tight_buffer)
{
	for (size_t len = 1; len < 300; len += 7) {
		for (size_t seg = 0; seg < 320; seg += 13) {
			uint8_t *b = malloc(len);
			struct wg_udp_train t;
			uint8_t *d;
			size_t n, sum = 0;
			unsigned x = 0;
			cr_assert_not_null(b);
			memset(b, 0xa5, len);
			for (int cut = 0; cut < 2; cut++) {
				enum wg_udp_train_verdict v = wg_udp_train_start(&t, b, len, len, seg, cut);
				sum = 0;
				while (wg_udp_train_next(&t, &d, &n)) {
					for (size_t i = 0; i < n; i++)
						x += d[i];
					sum += n;
				}
				if (!cut)
					cr_assert_eq(sum, len, "len %zu seg %zu: %zu bytes given", len, seg, sum);
				else if (v == WG_UDP_TRAIN_BAD)
					cr_assert_eq(sum, 0);
				else
					cr_assert_eq(sum % seg, 0, "a cut train gave a partial datagram");
			}
			free(b);
			(void)x;
		}
	}
}

Test(udp_gro, segment_size_from_the_control_data)
{
	union {
		char b[256];
		struct cmsghdr align;
	} cm;
	struct msghdr m = {0};
	struct cmsghdr *c;
	int seg = 1422;
	struct in_pktinfo pi = {0};

	cr_assert_eq(wg_udp_gro_size(&m), 0, "no control data");
	memset(&cm, 0, sizeof(cm));
	m.msg_control = cm.b;
	m.msg_controllen = CMSG_SPACE(sizeof(pi)) + CMSG_SPACE(sizeof(seg));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	c = CMSG_NXTHDR(&m, c);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_GRO;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	cr_assert_eq(wg_udp_gro_size(&m), 1422, "found after another message");
	/* a UDP_GRO message too short for its int is not read */
	c->cmsg_len = CMSG_LEN(2);
	cr_assert_eq(wg_udp_gro_size(&m), 0);
	/* a negative size is none */
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	seg = -5;
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	cr_assert_eq(wg_udp_gro_size(&m), 0);
}

/* The kernel's own train: 7 datagrams (6 of 300 bytes, one of 200) sent
 * with UDP GSO over loopback reach a socket with UDP_GRO as one message
 * with a segment size of 300, and are cut back exactly. */
Test(udp_gro, a_real_train_over_loopback)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
	uint8_t out[2000];
	static uint8_t in[WG_UDP_GRO_TRAIN_MAX];
	union {
		char b[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} scm;
	union {
		char b[WG_UDP_GRO_CMSG_SPACE];
		struct cmsghdr align;
	} rcm;
	struct iovec iov = {.iov_base = out, .iov_len = sizeof(out)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = scm.b, .msg_controllen = sizeof(scm.b)};
	struct cmsghdr *c;
	uint16_t seg = 300;
	struct cut cut;
	ssize_t n;

	cr_assert_geq(rx, 0);
	cr_assert_geq(tx, 0);
	cr_assert_eq(bind(rx, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(rx, (struct sockaddr *)&a, &alen), 0);
	cr_assert_eq(connect(tx, (struct sockaddr *)&a, sizeof(a)), 0);
	if (!wg_udp_gro_set(rx, true))
		cr_skip_test("this kernel has no UDP GRO");
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i / 300 + 1); /* each datagram its own byte */
	memset(&scm, 0, sizeof(scm));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	if (sendmsg(tx, &m, 0) < 0)
		cr_skip_test("this kernel has no UDP GSO");

	iov.iov_base = in;
	iov.iov_len = sizeof(in);
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = rcm.b;
	m.msg_controllen = sizeof(rcm.b);
	n = recvmsg(rx, &m, 0);
	cr_assert_eq(n, 2000, "the whole train in one receive (got %zd)", n);
	cr_assert_eq(wg_udp_gro_size(&m), 300);
	cr_assert_eq(split(in, sizeof(in), (size_t)n, wg_udp_gro_size(&m), (m.msg_flags & MSG_TRUNC) != 0, &cut),
		     WG_UDP_TRAIN_WHOLE);
	cr_assert_eq(cut.n, 7);
	for (size_t i = 0; i < cut.n; i++) {
		cr_assert_eq(cut.len[i], i < 6 ? 300u : 200u);
		cr_assert_eq(in[cut.off[i]], i + 1);
		cr_assert_eq(in[cut.off[i] + cut.len[i] - 1], i + 1);
	}

	/* Off again: the kernel cuts the next train itself, one datagram per
	 * receive and no segment size. */
	cr_assert(wg_udp_gro_set(rx, false));
	iov.iov_base = out;
	iov.iov_len = sizeof(out);
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = scm.b;
	m.msg_controllen = sizeof(scm.b);
	cr_assert_geq(sendmsg(tx, &m, 0), 0);
	iov.iov_base = in;
	iov.iov_len = sizeof(in);
	m.msg_control = rcm.b;
	m.msg_controllen = sizeof(rcm.b);
	n = recvmsg(rx, &m, 0);
	cr_assert_eq(n, 300);
	cr_assert_eq(wg_udp_gro_size(&m), 0);
	close(rx);
	close(tx);
}
