/* The DTLS socket's buffer sizing: what is asked for is what the socket
 * gets, past net.core.rmem_max when privileged, and capped without. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tunnel/udp_buffers.h"

static long sysctl_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

Test(udp_buffers, grants_what_is_asked_or_the_sysctl_cap)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	long rmax = sysctl_long("/proc/sys/net/core/rmem_max"), wmax = sysctl_long("/proc/sys/net/core/wmem_max");
	/* Above both maxima, so only the forcing option can grant it. */
	long want = (rmax > wmax ? rmax : wmax) + (1 << 20);
	struct wg_udp_buffers got;

	cr_assert(fd >= 0);
	cr_assert(rmax > 0 && wmax > 0);
	cr_assert_eq(wg_udp_buffers_set(fd, (int)want, &got), 0);
	if (got.forced) {
		/* The kernel doubles the value for its bookkeeping. */
		cr_expect_eq(got.rcv, 2 * want, "receive buffer %d, asked for %ld", got.rcv, want);
		cr_expect_eq(got.snd, 2 * want, "send buffer %d, asked for %ld", got.snd, want);
	} else {
		cr_expect_eq(got.rcv, 2 * rmax, "unprivileged: capped at rmem_max %ld, got %d", rmax, got.rcv);
		cr_expect_eq(got.snd, 2 * wmax, "unprivileged: capped at wmem_max %ld, got %d", wmax, got.snd);
	}
	close(fd);
}

Test(udp_buffers, forced_when_root)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct wg_udp_buffers got;

	if (geteuid() != 0)
		cr_skip_test("needs root for SO_RCVBUFFORCE");
	cr_assert(fd >= 0);
	cr_assert_eq(wg_udp_buffers_set(fd, 8 << 20, &got), 0);
	cr_expect_eq(got.forced, 1);
	cr_expect_eq(got.rcv, 16 << 20);
	close(fd);
}

Test(udp_buffers, zero_leaves_the_socket_alone)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int before = 0;
	socklen_t len = sizeof(before);
	struct wg_udp_buffers got;

	cr_assert(fd >= 0);
	cr_assert_eq(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &before, &len), 0);
	cr_assert_eq(wg_udp_buffers_set(fd, 0, &got), 0);
	cr_expect_eq(got.rcv, before);
	cr_expect_eq(got.forced, 0);
	close(fd);
}

Test(udp_buffers, not_a_socket)
{
	int p[2];

	cr_assert_eq(pipe(p), 0);
	cr_expect_eq(wg_udp_buffers_set(p[0], 1 << 20, NULL), -ENOTSOCK);
	close(p[0]);
	close(p[1]);
}
