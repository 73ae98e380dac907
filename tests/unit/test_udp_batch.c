/* UDP batching: runs of equal datagrams become one GSO message, peers and
 * sizes split runs, and a kernel that refuses GSO gets single datagrams. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "udp_batch.h"
#include "udp_sockopt.h"

struct sent {
	size_t len;
	int seg; /* UDP_SEGMENT value, 0 if none */
	uint16_t port;
};

static struct sent log_[512];
static unsigned nlog, calls;
static int fail_gso_errno; /* refuse messages with UDP_SEGMENT with this */
static int fail_all_errno;

static int fake_sendmmsg(int fd, struct mmsghdr *m, unsigned n, int flags)
{
	(void)fd;
	(void)flags;
	calls++;
	if (fail_all_errno) {
		errno = fail_all_errno;
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		struct cmsghdr *c = CMSG_FIRSTHDR(&m[i].msg_hdr);
		int seg = 0;
		if (c && c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_SEGMENT) {
			uint16_t v;
			memcpy(&v, CMSG_DATA(c), 2);
			seg = v;
		}
		if (seg && fail_gso_errno) {
			if (i == 0) {
				errno = fail_gso_errno;
				return -1;
			}
			return (int)i;
		}
		log_[nlog].len = m[i].msg_hdr.msg_iov[0].iov_len;
		log_[nlog].seg = seg;
		log_[nlog].port = ntohs(((struct sockaddr_in *)m[i].msg_hdr.msg_name)->sin_port);
		nlog++;
	}
	return (int)n;
}

static struct wg_udp_batch *mk(bool gso)
{
	struct wg_udp_batch *b = malloc(sizeof(*b));
	wg_udp_batch_init(b, -1, gso, fake_sendmmsg);
	nlog = calls = 0;
	fail_gso_errno = fail_all_errno = 0;
	return b;
}

static struct sockaddr_in peer(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(0x0a000001);
	return a;
}

static uint8_t data[2000];

static void add(struct wg_udp_batch *b, uint16_t port, size_t len)
{
	struct sockaddr_in a = peer(port);
	cr_assert_eq(wg_udp_batch_add(b, (struct sockaddr *)&a, sizeof(a), NULL, data, len), 0);
}

Test(udp_batch, equal_run_is_one_gso_message)
{
	struct wg_udp_batch *b = mk(true);

	for (int i = 0; i < 10; i++)
		add(b, 1, 1450);
	add(b, 1, 300); /* the last may be shorter */
	wg_udp_batch_flush(b);
	cr_assert_eq(calls, 1);
	cr_assert_eq(nlog, 1);
	cr_assert_eq(log_[0].len, 10 * 1450 + 300);
	cr_assert_eq(log_[0].seg, 1450);
	cr_assert_eq(b->sent, 11);
	cr_assert(wg_udp_batch_empty(b));
	free(b);
}

Test(udp_batch, peers_sizes_and_limits_split_runs)
{
	struct wg_udp_batch *b = mk(true);

	add(b, 1, 1000);
	add(b, 1, 1000);
	add(b, 2, 1000); /* another peer */
	add(b, 2, 500);
	add(b, 2, 500);  /* after a shorter one: a new run */
	add(b, 2, 900);  /* larger than the run's size: a new run */
	add(b, 2, 1000);
	wg_udp_batch_flush(b);
	cr_assert_eq(calls, 1, "one system call for the whole burst");
	cr_assert_eq(nlog, 5);
	cr_assert_eq(log_[0].seg, 1000);
	cr_assert_eq(log_[0].port, 1);
	cr_assert_eq(log_[1].len, 1500);
	cr_assert_eq(log_[1].port, 2);
	cr_assert_eq(log_[2].seg, 0);
	cr_assert_eq(log_[2].len, 500);
	cr_assert_eq(log_[3].len, 900);
	cr_assert_eq(log_[4].len, 1000);
	free(b);

	/* At most 64 segments and ~63 KB per message. */
	b = mk(true);
	for (int i = 0; i < 100; i++)
		add(b, 1, 500);
	for (int i = 0; i < 100; i++)
		add(b, 3, 1400);
	wg_udp_batch_flush(b);
	for (unsigned i = 0; i < nlog; i++)
		cr_assert_leq(log_[i].len, WG_UDP_GSO_MAX_BYTES);
	cr_assert_eq(b->sent, 200);
	free(b);
}

Test(udp_batch, no_gso_one_message_per_datagram)
{
	struct wg_udp_batch *b = mk(false);

	for (int i = 0; i < 5; i++)
		add(b, 1, 1400);
	wg_udp_batch_flush(b);
	cr_assert_eq(calls, 1);
	cr_assert_eq(nlog, 5);
	for (unsigned i = 0; i < nlog; i++)
		cr_assert_eq(log_[i].seg, 0);
	free(b);
}

Test(udp_batch, gso_refused_falls_back_and_stays_off)
{
	struct wg_udp_batch *b = mk(true);

	add(b, 7, 100); /* single: no GSO needed */
	for (int i = 0; i < 4; i++)
		add(b, 1, 1400);
	fail_gso_errno = EIO;
	wg_udp_batch_flush(b);
	cr_assert_eq(nlog, 5, "every datagram still sent");
	for (unsigned i = 0; i < nlog; i++)
		cr_assert_eq(log_[i].seg, 0);
	cr_assert(!b->gso);
	cr_assert(b->gso_refused);
	cr_assert_eq(b->sent, 5);
	nlog = 0;
	for (int i = 0; i < 4; i++)
		add(b, 1, 1400);
	wg_udp_batch_flush(b);
	cr_assert_eq(nlog, 4, "later bursts go without GSO");
	free(b);

	b = mk(true);
	for (int i = 0; i < 4; i++)
		add(b, 1, 1400);
	fail_gso_errno = EINVAL;
	wg_udp_batch_flush(b);
	cr_assert_eq(nlog, 4);
	cr_assert(!b->gso);
	free(b);
}

Test(udp_batch, full_buffer_drops_and_oversize_refused)
{
	struct wg_udp_batch *b = mk(true);
	struct sockaddr_in a = peer(1);
	static uint8_t big[70000];

	for (int i = 0; i < 4; i++)
		add(b, 1, 1400);
	fail_all_errno = EAGAIN;
	wg_udp_batch_flush(b);
	cr_assert_eq(b->dropped, 4);
	cr_assert(wg_udp_batch_empty(b));
	cr_assert_eq(wg_udp_batch_add(b, (struct sockaddr *)&a, sizeof(a), NULL, big, sizeof(big)), -1);
	cr_assert_eq(wg_udp_batch_add(b, (struct sockaddr *)&a, sizeof(a), NULL, big, 0), -1);
	free(b);
}

Test(udp_batch, fills_and_flushes_on_its_own)
{
	struct wg_udp_batch *b = mk(true);

	/* More than the buffer holds: earlier runs are sent on the way. */
	for (int i = 0; i < 400; i++)
		add(b, (uint16_t)(1 + i % 3), 1400);
	cr_assert_gt(calls, 0);
	wg_udp_batch_flush(b);
	cr_assert_eq(b->sent, 400);
	free(b);
}
