/* The local address a datagram arrived on, and answers sent from it.
 *
 * A UDP socket bound to the wildcard address (:: or 0.0.0.0) on a host with
 * several addresses would answer from whatever source the kernel's route
 * back picks, which need not be the address the client sent to; a client
 * whose UDP socket is connect()ed (wolfguard-client's lanes, openconnect)
 * drops such answers. So, as UDP servers do: the socket reports each
 * datagram's destination (IP_PKTINFO, IPV6_RECVPKTINFO), the association
 * remembers it, and every answer names it as its source with an
 * IP_PKTINFO / IPV6_PKTINFO control message on sendmsg/sendmmsg.
 *
 * An IPv4 datagram of a dual-stack IPv6 socket comes with a v4-mapped
 * IPV6_PKTINFO (and IP_PKTINFO when asked for): its local address is held
 * as IPv4 and sent with IP_PKTINFO, which Linux accepts on such a socket. */
#ifndef WG_UDP_LOCAL_H
#define WG_UDP_LOCAL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct wg_udp_local {
	sa_family_t family; /* AF_INET, AF_INET6, or 0: unknown (the route picks) */
	uint32_t ifindex;   /* sent only for an IPv6 link-local address (its scope) */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
};

/* Room for the one control message of either family, received or sent. */
#define WG_UDP_LOCAL_CMSG_SPACE CMSG_SPACE(sizeof(struct in6_pktinfo))

/* Asks the kernel for each datagram's local address when fd is bound to
 * the wildcard address (a socket bound to one address always answers from
 * it: nothing to do). true when it is on. */
bool wg_udp_local_enable(int fd);
/* The local address in a received message's control data; false (and out
 * zeroed) when there is none. */
bool wg_udp_local_from_msg(const struct msghdr *m, struct wg_udp_local *out);
/* Writes the control message that sends from l at c, which must have
 * WG_UDP_LOCAL_CMSG_SPACE bytes; returns the bytes used (CMSG_SPACE), 0
 * when l is unknown. */
size_t wg_udp_local_cmsg(const struct wg_udp_local *l, struct cmsghdr *c);
bool wg_udp_local_equal(const struct wg_udp_local *a, const struct wg_udp_local *b);
/* "192.0.2.1", "2001:db8::1" or "?" */
void wg_udp_local_format(const struct wg_udp_local *l, char *out, size_t len);

#endif
