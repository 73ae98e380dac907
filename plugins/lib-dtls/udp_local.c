/* See udp_local.h. */
#include "udp_local.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

bool wg_udp_local_enable(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int one = 1;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return false;
	if (ss.ss_family == AF_INET) {
		if (((struct sockaddr_in *)&ss)->sin_addr.s_addr != htonl(INADDR_ANY))
			return false;
		return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) == 0;
	}
	if (ss.ss_family != AF_INET6 || !IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr))
		return false;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0)
		return false;
	/* The IPv4 peers of a dual-stack socket; refused only by an
	 * IPv6-only socket, which has none. */
	(void)setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	return true;
}

bool wg_udp_local_from_msg(const struct msghdr *m, struct wg_udp_local *out)
{
	memset(out, 0, sizeof(*out));
	if (!m->msg_control || m->msg_controllen == 0)
		return false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			out->family = AF_INET;
			/* The header's destination: the address the client
			 * sent to (ipi_spec_dst differs only for broadcasts). */
			out->addr.v4 = pi.ipi_addr;
			return true;
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			if (IN6_IS_ADDR_V4MAPPED(&pi.ipi6_addr)) {
				/* An IPv4 datagram of a dual-stack socket (it
				 * comes with both): held, and sent, as IPv4. */
				out->family = AF_INET;
				memcpy(&out->addr.v4, &pi.ipi6_addr.s6_addr[12], 4);
				return true;
			}
			out->family = AF_INET6;
			out->addr.v6 = pi.ipi6_addr;
			out->ifindex = pi.ipi6_ifindex;
			return true;
		}
	}
	return false;
}

size_t wg_udp_local_cmsg(const struct wg_udp_local *l, struct cmsghdr *c)
{
	if (l->family == AF_INET) {
		struct in_pktinfo pi;
		memset(&pi, 0, sizeof(pi));
		/* The source only: no interface, so the route back still
		 * chooses the way out (asymmetric routing keeps working). */
		pi.ipi_spec_dst = l->addr.v4;
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	if (l->family == AF_INET6) {
		struct in6_pktinfo pi;
		memset(&pi, 0, sizeof(pi));
		pi.ipi6_addr = l->addr.v6;
		if (IN6_IS_ADDR_LINKLOCAL(&l->addr.v6)) /* meaningless without its link */
			pi.ipi6_ifindex = l->ifindex;
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	return 0;
}

bool wg_udp_local_equal(const struct wg_udp_local *a, const struct wg_udp_local *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->addr.v4.s_addr == b->addr.v4.s_addr;
	if (a->family == AF_INET6)
		return IN6_ARE_ADDR_EQUAL(&a->addr.v6, &b->addr.v6) && a->ifindex == b->ifindex;
	return true;
}

void wg_udp_local_format(const struct wg_udp_local *l, char *out, size_t len)
{
	if (len == 0)
		return;
	if (!(l->family == AF_INET || l->family == AF_INET6) || !inet_ntop(l->family, &l->addr, out, (socklen_t)len))
		snprintf(out, len, "?");
}
