/* Answers from the address the peer sent to (udp_local.h): the control
 * messages built and parsed, the send batch carrying them next to
 * UDP_SEGMENT, and real loopback sockets bound to the wildcard address
 * whose client is connect()ed to a second local address (127.0.0.2). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "udp_batch.h"
#include "udp_local.h"
#include "udp_sockopt.h"

union cbuf {
	char buf[256];
	struct cmsghdr align;
};

static struct wg_udp_local v4(const char *text)
{
	struct wg_udp_local l = {.family = AF_INET};
	cr_assert_eq(inet_pton(AF_INET, text, &l.addr.v4), 1);
	return l;
}

/* ---- control messages ------------------------------------------------------ */

Test(udp_local, builds_ip_pktinfo_with_the_source_and_no_interface)
{
	union cbuf cb;
	struct wg_udp_local l = v4("192.0.2.7");
	struct in_pktinfo pi;
	struct cmsghdr *c = (struct cmsghdr *)cb.buf;

	memset(&cb, 0xaa, sizeof(cb));
	cr_assert_eq(wg_udp_local_cmsg(&l, c), CMSG_SPACE(sizeof(pi)));
	cr_assert_eq(c->cmsg_level, IPPROTO_IP);
	cr_assert_eq(c->cmsg_type, IP_PKTINFO);
	cr_assert_eq(c->cmsg_len, CMSG_LEN(sizeof(pi)));
	memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	cr_assert_eq(pi.ipi_spec_dst.s_addr, l.addr.v4.s_addr);
	cr_assert_eq(pi.ipi_ifindex, 0); /* the route picks the way out */
	cr_assert_eq(pi.ipi_addr.s_addr, 0);
}

Test(udp_local, builds_ipv6_pktinfo_scope_only_for_link_local)
{
	union cbuf cb;
	struct wg_udp_local l = {.family = AF_INET6, .ifindex = 5};
	struct in6_pktinfo pi;
	struct cmsghdr *c = (struct cmsghdr *)cb.buf;

	inet_pton(AF_INET6, "2001:db8::2", &l.addr.v6);
	cr_assert_eq(wg_udp_local_cmsg(&l, c), CMSG_SPACE(sizeof(pi)));
	cr_assert_eq(c->cmsg_level, IPPROTO_IPV6);
	cr_assert_eq(c->cmsg_type, IPV6_PKTINFO);
	memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	cr_assert(IN6_ARE_ADDR_EQUAL(&pi.ipi6_addr, &l.addr.v6));
	cr_assert_eq(pi.ipi6_ifindex, 0);
	inet_pton(AF_INET6, "fe80::2", &l.addr.v6);
	wg_udp_local_cmsg(&l, c);
	memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	cr_assert_eq(pi.ipi6_ifindex, 5);
}

Test(udp_local, unknown_builds_nothing)
{
	union cbuf cb;
	struct wg_udp_local l = {0};

	cr_assert_eq(wg_udp_local_cmsg(&l, (struct cmsghdr *)cb.buf), 0);
}

Test(udp_local, parses_pktinfo_of_either_family_after_other_messages)
{
	union cbuf cb;
	struct msghdr m = {.msg_control = cb.buf, .msg_controllen = sizeof(cb.buf)};
	struct cmsghdr *c;
	struct wg_udp_local got;
	struct in_pktinfo pi4 = {0};
	struct in6_pktinfo pi6 = {0};
	int ttl = 64;

	memset(&cb, 0, sizeof(cb));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = IPPROTO_IP; /* something else first */
	c->cmsg_type = IP_TTL;
	c->cmsg_len = CMSG_LEN(sizeof(ttl));
	memcpy(CMSG_DATA(c), &ttl, sizeof(ttl));
	c = CMSG_NXTHDR(&m, c);
	inet_pton(AF_INET, "198.51.100.9", &pi4.ipi_addr);
	inet_pton(AF_INET, "198.51.100.1", &pi4.ipi_spec_dst);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi4));
	memcpy(CMSG_DATA(c), &pi4, sizeof(pi4));
	m.msg_controllen = CMSG_SPACE(sizeof(ttl)) + CMSG_SPACE(sizeof(pi4));
	cr_assert(wg_udp_local_from_msg(&m, &got));
	cr_assert_eq(got.family, AF_INET);
	cr_assert_eq(got.addr.v4.s_addr, pi4.ipi_addr.s_addr); /* where the client sent to */

	memset(&cb, 0, sizeof(cb));
	m.msg_controllen = sizeof(cb.buf);
	c = CMSG_FIRSTHDR(&m);
	inet_pton(AF_INET6, "2001:db8::9", &pi6.ipi6_addr);
	pi6.ipi6_ifindex = 3;
	c->cmsg_level = IPPROTO_IPV6;
	c->cmsg_type = IPV6_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi6));
	memcpy(CMSG_DATA(c), &pi6, sizeof(pi6));
	m.msg_controllen = CMSG_SPACE(sizeof(pi6));
	cr_assert(wg_udp_local_from_msg(&m, &got));
	cr_assert_eq(got.family, AF_INET6);
	cr_assert(IN6_ARE_ADDR_EQUAL(&got.addr.v6, &pi6.ipi6_addr));
	cr_assert_eq(got.ifindex, 3);

	/* v4-mapped (an IPv4 datagram on a dual-stack socket): held as IPv4 */
	inet_pton(AF_INET6, "::ffff:198.51.100.9", &pi6.ipi6_addr);
	memcpy(CMSG_DATA(c), &pi6, sizeof(pi6));
	cr_assert(wg_udp_local_from_msg(&m, &got));
	cr_assert_eq(got.family, AF_INET);
	cr_assert_eq(got.addr.v4.s_addr, pi4.ipi_addr.s_addr);
}

Test(udp_local, parse_refuses_short_or_missing)
{
	union cbuf cb;
	struct msghdr m = {.msg_control = cb.buf, .msg_controllen = sizeof(cb.buf)};
	struct cmsghdr *c;
	struct wg_udp_local got;

	memset(&cb, 0, sizeof(cb));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(4); /* cut */
	m.msg_controllen = CMSG_SPACE(4);
	cr_assert_not(wg_udp_local_from_msg(&m, &got));
	cr_assert_eq(got.family, 0);
	m.msg_control = NULL;
	m.msg_controllen = 0;
	cr_assert_not(wg_udp_local_from_msg(&m, &got));
}

/* ---- the send batch ------------------------------------------------------- */

struct sent {
	size_t len;
	int seg;
	in_addr_t src; /* 0: none */
	bool had_control;
};
static struct sent log_[64];
static unsigned nlog, calls;
static int fail_src_errno; /* refuse messages naming a source with this */

static int fake_sendmmsg(int fd, struct mmsghdr *m, unsigned n, int flags)
{
	(void)fd;
	(void)flags;
	calls++;
	for (unsigned i = 0; i < n; i++) {
		struct msghdr *h = &m[i].msg_hdr;
		struct sent s = {.len = h->msg_iov[0].iov_len, .had_control = h->msg_controllen > 0};
		for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
			if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_SEGMENT) {
				uint16_t v;
				memcpy(&v, CMSG_DATA(c), 2);
				s.seg = v;
			} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;
				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				s.src = pi.ipi_spec_dst.s_addr;
			}
		}
		if (s.src && fail_src_errno) {
			if (i == 0) {
				errno = fail_src_errno;
				return -1;
			}
			return (int)i;
		}
		log_[nlog++] = s;
	}
	return (int)n;
}

static uint8_t data[1500];

Test(udp_local, batch_carries_source_next_to_gso_and_splits_on_it)
{
	struct wg_udp_batch *b = malloc(sizeof(*b));
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(9)};
	struct wg_udp_local a = v4("192.0.2.1"), c = v4("192.0.2.2");

	peer.sin_addr.s_addr = htonl(0x0a000001);
	wg_udp_batch_init(b, -1, true, fake_sendmmsg);
	nlog = calls = 0;
	fail_src_errno = 0;
	for (int i = 0; i < 3; i++)
		wg_udp_batch_add(b, (struct sockaddr *)&peer, sizeof(peer), &a, data, 1000);
	wg_udp_batch_add(b, (struct sockaddr *)&peer, sizeof(peer), &c, data, 1000); /* another source */
	wg_udp_batch_add(b, (struct sockaddr *)&peer, sizeof(peer), NULL, data, 1000);
	wg_udp_batch_flush(b);
	cr_assert_eq(nlog, 3);
	cr_assert_eq(calls, 1, "the sources cost no system call");
	cr_assert_eq(log_[0].len, 3000);
	cr_assert_eq(log_[0].seg, 1000);
	cr_assert_eq(log_[0].src, a.addr.v4.s_addr);
	cr_assert_eq(log_[1].seg, 0);
	cr_assert_eq(log_[1].src, c.addr.v4.s_addr);
	cr_assert_eq(log_[2].src, 0);
	cr_assert_not(log_[2].had_control); /* no source, one datagram: no control data */
	cr_assert_eq(b->sent, 5);
	free(b);
}

Test(udp_local, batch_source_gone_resends_from_the_route_and_keeps_gso)
{
	struct wg_udp_batch *b = malloc(sizeof(*b));
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(9)};
	struct wg_udp_local a = v4("192.0.2.1");

	wg_udp_batch_init(b, -1, true, fake_sendmmsg);
	nlog = 0;
	fail_src_errno = EINVAL;
	for (int i = 0; i < 4; i++)
		wg_udp_batch_add(b, (struct sockaddr *)&peer, sizeof(peer), &a, data, 1000);
	wg_udp_batch_flush(b);
	cr_assert_eq(nlog, 1);
	cr_assert_eq(log_[0].src, 0);
	cr_assert_eq(log_[0].seg, 1000); /* still one GSO message */
	cr_assert(b->gso);
	cr_assert_eq(b->sent, 4);
	cr_assert_eq(b->dropped, 0);
	free(b);
}

/* ---- real sockets ----------------------------------------------------------- */

/* A server socket of family fam bound to the wildcard address, its port. */
static int wildcard_server(int fam, uint16_t *port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int off = 0, fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	if (fam == AF_INET6) {
		if (fd < 0)
			return -1;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		len = sizeof(struct sockaddr_in6);
	} else {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		len = sizeof(struct sockaddr_in);
	}
	cr_assert_eq(bind(fd, (struct sockaddr *)&ss, len), 0);
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*port = ntohs(fam == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* A client connect()ed to 127.0.0.2 (a second address of lo), as
 * wolfguard-client's lanes and openconnect are. */
static int connected_client(uint16_t port)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.2", &to.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	return fd;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) == 1;
}

/* Receives one datagram on the server: where it arrived and from whom. */
static void server_recv(int fd, struct wg_udp_local *local, struct sockaddr_storage *from, socklen_t *fromlen)
{
	union cbuf cb;
	char buf[64];
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr m = {.msg_name = from, .msg_namelen = sizeof(*from), .msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = cb.buf, .msg_controllen = sizeof(cb.buf)};

	cr_assert(readable(fd, 5000));
	cr_assert_gt(recvmsg(fd, &m, 0), 0);
	*fromlen = m.msg_namelen;
	cr_assert(wg_udp_local_from_msg(&m, local));
}

static void answers_from_the_address_sent_to(int fam)
{
	uint16_t port;
	int srv = wildcard_server(fam, &port), cli = connected_client(port);
	struct wg_udp_local local;
	struct sockaddr_storage from;
	socklen_t fromlen;
	char text[64];
	union cbuf cb;
	struct iovec iov = {.iov_base = "pong", .iov_len = 4};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	struct wg_udp_batch *b = malloc(sizeof(*b));
	char got[8000];

	cr_assert(wg_udp_local_enable(srv));
	cr_assert_eq(send(cli, "ping", 4, 0), 4);
	server_recv(srv, &local, &from, &fromlen);
	wg_udp_local_format(&local, text, sizeof(text));
	cr_assert_str_eq(text, "127.0.0.2");

	/* Without a source the route answers from 127.0.0.1: the connected
	 * client never sees it (the failure this code exists for). */
	cr_assert_eq(sendto(srv, "lost", 4, 0, (struct sockaddr *)&from, fromlen), 4);
	cr_assert_not(readable(cli, 200));

	m.msg_name = &from;
	m.msg_namelen = fromlen;
	m.msg_control = cb.buf;
	m.msg_controllen = wg_udp_local_cmsg(&local, (struct cmsghdr *)cb.buf);
	cr_assert_eq(sendmsg(srv, &m, 0), 4);
	cr_assert(readable(cli, 5000));
	cr_assert_eq(recv(cli, got, sizeof(got), 0), 4);
	cr_assert_eq(memcmp(got, "pong", 4), 0);

	/* The batch: three datagrams in one GSO message from 127.0.0.2. */
	wg_udp_batch_init(b, srv, true, NULL);
	for (int i = 0; i < 3; i++)
		wg_udp_batch_add(b, (struct sockaddr *)&from, fromlen, &local, data, 1200);
	wg_udp_batch_flush(b);
	cr_assert_eq(b->sent, 3);
	for (int i = 0; i < 3; i++) {
		cr_assert(readable(cli, 5000), "datagram %d of the batch never came", i);
		cr_assert_eq(recv(cli, got, sizeof(got), 0), 1200);
	}
	free(b);
	close(cli);
	close(srv);
}

Test(udp_local, ipv4_wildcard_socket_answers_from_the_second_address)
{
	answers_from_the_address_sent_to(AF_INET);
}

Test(udp_local, dual_stack_wildcard_socket_answers_ipv4_peers_from_the_second_address)
{
	int probe = socket(AF_INET6, SOCK_DGRAM, 0);

	if (probe < 0)
		cr_skip_test("no IPv6 in this kernel");
	close(probe);
	answers_from_the_address_sent_to(AF_INET6);
}

Test(udp_local, a_socket_bound_to_one_address_asks_for_nothing)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_not(wg_udp_local_enable(fd));
	close(fd);
}
