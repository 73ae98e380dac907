/* The shared TUN device, configured with ioctls (no `ip` subprocess). */
#include "tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/ipv6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int ifreq_ioctl(int family, unsigned long req, struct ifreq *ifr)
{
	int s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	if (s < 0)
		return -errno;
	rc = ioctl(s, req, ifr) < 0 ? -errno : 0;
	close(s);
	return rc;
}

static int set_addr4(const char *name, const char *addr, unsigned prefix, char *err, size_t errlen)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1 || prefix > 32) {
		snprintf(err, errlen, "invalid IPv4 address %s/%u", addr, prefix);
		return -EINVAL;
	}
	if ((rc = ifreq_ioctl(AF_INET, SIOCSIFADDR, &ifr)) < 0) {
		snprintf(err, errlen, "%s: cannot set address %s: %s", name, addr, strerror(-rc));
		return rc;
	}
	sin->sin_addr.s_addr = prefix ? htonl(~0u << (32 - prefix)) : 0;
	if ((rc = ifreq_ioctl(AF_INET, SIOCSIFNETMASK, &ifr)) < 0) {
		snprintf(err, errlen, "%s: cannot set netmask /%u: %s", name, prefix, strerror(-rc));
		return rc;
	}
	return 0;
}

static int set_addr6(const char *name, const char *addr, unsigned prefix, char *err, size_t errlen)
{
	struct ifreq ifr;
	struct in6_ifreq ifr6;
	int rc, s;

	memset(&ifr, 0, sizeof(ifr));
	memset(&ifr6, 0, sizeof(ifr6));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if ((rc = ifreq_ioctl(AF_INET6, SIOCGIFINDEX, &ifr)) < 0) {
		snprintf(err, errlen, "%s: no interface index: %s", name, strerror(-rc));
		return rc;
	}
	if (inet_pton(AF_INET6, addr, &ifr6.ifr6_addr) != 1 || prefix > 128) {
		snprintf(err, errlen, "invalid IPv6 address %s/%u", addr, prefix);
		return -EINVAL;
	}
	ifr6.ifr6_ifindex = ifr.ifr_ifindex;
	ifr6.ifr6_prefixlen = prefix;
	s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, SIOCSIFADDR, &ifr6) < 0) {
		rc = -errno;
		if (s >= 0)
			close(s);
		snprintf(err, errlen, "%s: cannot set IPv6 address %s/%u: %s", name, addr, prefix, strerror(-rc));
		return rc;
	}
	close(s);
	return 0;
}

int wg_tun_open(struct wg_tun *t, const char *name, unsigned mtu, const char *addr4, unsigned prefix4,
		const char *addr6, unsigned prefix6, char *err, size_t errlen)
{
	struct ifreq ifr;
	int rc;

	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open /dev/net/tun: %s (needs root or CAP_NET_ADMIN)", strerror(-rc));
		return rc;
	}
	memset(&ifr, 0, sizeof(ifr));
	/* One queue today; a worker per core will add IFF_MULTI_QUEUE and
	 * attach one queue each. */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name && *name ? name : "wolfguard0");
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create TUN device %s: %s", ifr.ifr_name, strerror(-rc));
		goto fail;
	}
	snprintf(t->name, sizeof(t->name), "%s", ifr.ifr_name);
	t->mtu = mtu;
	ifr.ifr_mtu = (int)mtu;
	if ((rc = ifreq_ioctl(AF_INET, SIOCSIFMTU, &ifr)) < 0) {
		snprintf(err, errlen, "%s: cannot set MTU %u: %s", t->name, mtu, strerror(-rc));
		goto fail;
	}
	ifr.ifr_qlen = 1000;
	ifreq_ioctl(AF_INET, SIOCSIFTXQLEN, &ifr); /* a default of 500 drops bursts; not fatal */
	if (addr4 && *addr4 && (rc = set_addr4(t->name, addr4, prefix4, err, errlen)) < 0)
		goto fail;
	if ((rc = ifreq_ioctl(AF_INET, SIOCGIFFLAGS, &ifr)) < 0)
		goto fail_flags;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if ((rc = ifreq_ioctl(AF_INET, SIOCSIFFLAGS, &ifr)) < 0)
		goto fail_flags;
	/* IPv6 addresses need the link up first. */
	if (addr6 && *addr6 && (rc = set_addr6(t->name, addr6, prefix6, err, errlen)) < 0)
		goto fail;
	return 0;
fail_flags:
	snprintf(err, errlen, "%s: cannot bring the link up: %s", t->name, strerror(-rc));
fail:
	close(t->fd);
	t->fd = -1;
	return rc;
}

void wg_tun_close(struct wg_tun *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

ssize_t wg_tun_read(struct wg_tun *t, uint8_t *buf, size_t len)
{
	return read(t->fd, buf, len);
}

ssize_t wg_tun_write(struct wg_tun *t, const uint8_t *pkt, size_t len)
{
	return write(t->fd, pkt, len);
}

static int mask_to_prefix(const char *mask)
{
	struct in_addr a;
	uint32_t m;
	int n = 0;

	if (inet_pton(AF_INET, mask, &a) != 1)
		return -1;
	m = ntohl(a.s_addr);
	while (m & 0x80000000u) {
		n++;
		m <<= 1;
	}
	return m ? -1 : n; /* holes in the mask are not a netmask */
}

int wg_net_first_host(const char *cidr, char *addr, size_t addrlen, unsigned *prefix)
{
	char tmp[128];
	char *slash;
	long p;

	if (!cidr || strlen(cidr) >= sizeof(tmp))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s", cidr);
	slash = strchr(tmp, '/');
	if (!slash)
		return -1;
	*slash++ = '\0';
	if (strchr(tmp, ':')) {
		struct in6_addr a;
		char *end;
		p = strtol(slash, &end, 10);
		if (*end || end == slash || p < 1 || p > 127 || inet_pton(AF_INET6, tmp, &a) != 1)
			return -1;
		for (int i = 0; i < 16; i++) {
			int keep = (int)p - 8 * i;
			a.s6_addr[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
		}
		a.s6_addr[15] |= 1;
		*prefix = (unsigned)p;
		return inet_ntop(AF_INET6, &a, addr, (socklen_t)addrlen) ? 0 : -1;
	}
	struct in_addr a;
	if (strchr(slash, '.')) {
		p = mask_to_prefix(slash);
	} else {
		char *end;
		p = strtol(slash, &end, 10);
		if (*end || end == slash)
			p = -1;
	}
	if (p < 1 || p > 30 || inet_pton(AF_INET, tmp, &a) != 1)
		return -1;
	uint32_t net = ntohl(a.s_addr) & (~0u << (32 - p));
	a.s_addr = htonl(net + 1);
	*prefix = (unsigned)p;
	return inet_ntop(AF_INET, &a, addr, (socklen_t)addrlen) ? 0 : -1;
}
