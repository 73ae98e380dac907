/* The shared TUN device, created and configured with ioctls: no `ip`
 * subprocess, so it works in minimal containers and reports exact errors. */
#include "tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/ipv6.h> /* struct in6_ifreq */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define DEFAULT_NAME "wolfguard%d" /* the kernel replaces %d with a free number */
#define TX_QUEUE_LEN 1000          /* the TUN default of 500 drops bursts from fast clients */
#define IPV6_MIN_MTU 1280          /* below this the kernel disables IPv6 on the link */

/* Set by wg_tun_use_multi_queue() in worker processes (see steer.h). */
static bool multi_queue;

void wg_tun_use_multi_queue(bool on)
{
	multi_queue = on;
}

/* One ioctl on a throwaway socket of `family` (interface ioctls need one). */
static int ifreq_ioctl(int family, unsigned long req, void *arg)
{
	int s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	if (s < 0)
		return -errno;
	rc = ioctl(s, req, arg) < 0 ? -errno : 0;
	close(s);
	return rc;
}

static void ifreq_init(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
}

static int set_addr4(const char *name, const char *addr, unsigned prefix, char *err, size_t errlen)
{
	struct ifreq ifr;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int rc;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1 || prefix > 32) {
		snprintf(err, errlen, "invalid IPv4 address %s/%u", addr, prefix);
		return -EINVAL;
	}
	ifreq_init(&ifr, name);
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	if ((rc = ifreq_ioctl(AF_INET, SIOCSIFADDR, &ifr)) < 0) {
		snprintf(err, errlen, "%s: cannot set address %s: %s", name, addr, strerror(-rc));
		return rc;
	}
	sin.sin_addr.s_addr = prefix ? htonl(~0u << (32 - prefix)) : 0;
	memcpy(&ifr.ifr_netmask, &sin, sizeof(sin));
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
	int rc;

	memset(&ifr6, 0, sizeof(ifr6));
	if (inet_pton(AF_INET6, addr, &ifr6.ifr6_addr) != 1 || prefix > 128) {
		snprintf(err, errlen, "invalid IPv6 address %s/%u", addr, prefix);
		return -EINVAL;
	}
	ifreq_init(&ifr, name);
	if ((rc = ifreq_ioctl(AF_INET6, SIOCGIFINDEX, &ifr)) < 0) {
		snprintf(err, errlen, "%s: cannot set IPv6 address (no interface index): %s", name, strerror(-rc));
		return rc;
	}
	ifr6.ifr6_ifindex = ifr.ifr_ifindex;
	ifr6.ifr6_prefixlen = prefix;
	if ((rc = ifreq_ioctl(AF_INET6, SIOCSIFADDR, &ifr6)) < 0) {
		snprintf(err, errlen, "%s: cannot set IPv6 address %s/%u: %s%s", name, addr, prefix, strerror(-rc),
			 rc == -EAFNOSUPPORT || rc == -EACCES ? " (is IPv6 disabled on this host?)" : "");
		return rc;
	}
	return 0;
}

/* Creates the device; fills t->fd and t->name. */
static int create_device(struct wg_tun *t, const char *name, char *err, size_t errlen)
{
	struct ifreq ifr;
	int rc;

	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open /dev/net/tun: %s (needs root or CAP_NET_ADMIN)", strerror(-rc));
		return rc;
	}
	ifreq_init(&ifr, name);
	/* With several workers each one attaches its own queue: TUNSETIFF with
	 * the same name and IFF_MULTI_QUEUE on one fd per worker. */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (multi_queue ? IFF_MULTI_QUEUE : 0);
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create TUN device %s: %s%s", name, strerror(-rc),
			 rc == -EPERM ? " (needs root or CAP_NET_ADMIN)"
			 : rc == -EBUSY || rc == -EINVAL ? " (is the name in use by another device or process?)"
							   : "");
		return rc;
	}
	snprintf(t->name, sizeof(t->name), "%s", ifr.ifr_name);
	return 0;
}

static int set_link(struct wg_tun *t, unsigned mtu, char *err, size_t errlen)
{
	struct ifreq ifr;
	int rc;

	ifreq_init(&ifr, t->name);
	ifr.ifr_mtu = (int)mtu;
	if ((rc = ifreq_ioctl(AF_INET, SIOCSIFMTU, &ifr)) < 0) {
		snprintf(err, errlen, "%s: cannot set MTU %u: %s", t->name, mtu, strerror(-rc));
		return rc;
	}
	t->mtu = mtu;
	ifreq_init(&ifr, t->name);
	ifr.ifr_qlen = TX_QUEUE_LEN;
	if ((rc = ifreq_ioctl(AF_INET, SIOCSIFTXQLEN, &ifr)) < 0) /* a tuning, not fatal */
		wg_log(NULL, WG_LOG_WARN, "%s: cannot set txqueuelen %d: %s", t->name, TX_QUEUE_LEN, strerror(-rc));
	return 0;
}

static int bring_up(struct wg_tun *t, char *err, size_t errlen)
{
	struct ifreq ifr;
	int rc;

	ifreq_init(&ifr, t->name);
	if ((rc = ifreq_ioctl(AF_INET, SIOCGIFFLAGS, &ifr)) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		rc = ifreq_ioctl(AF_INET, SIOCSIFFLAGS, &ifr);
	}
	if (rc < 0)
		snprintf(err, errlen, "%s: cannot bring the link up: %s", t->name, strerror(-rc));
	return rc;
}

int wg_tun_open(struct wg_tun *t, const char *name, unsigned mtu, const char *addr4, unsigned prefix4,
		const char *addr6, unsigned prefix6, char *err, size_t errlen)
{
	bool want6 = addr6 && *addr6;
	int rc;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (!name || !*name)
		name = DEFAULT_NAME;
	if (strlen(name) >= IFNAMSIZ) {
		snprintf(err, errlen, "TUN device name \"%s\" is longer than %d characters", name, IFNAMSIZ - 1);
		return -ENAMETOOLONG;
	}
	if (mtu < 68 || mtu > 65535 || (want6 && mtu < IPV6_MIN_MTU)) {
		snprintf(err, errlen, "MTU %u out of range (%u..65535)", mtu, want6 ? IPV6_MIN_MTU : 68);
		return -EINVAL;
	}
	if ((rc = create_device(t, name, err, errlen)) < 0 || (rc = set_link(t, mtu, err, errlen)) < 0)
		goto fail;
	if (addr4 && *addr4 && (rc = set_addr4(t->name, addr4, prefix4, err, errlen)) < 0)
		goto fail;
	if ((rc = bring_up(t, err, errlen)) < 0)
		goto fail;
	/* After bring-up, so the address is not held back until the link is up. */
	if (want6 && (rc = set_addr6(t->name, addr6, prefix6, err, errlen)) < 0)
		goto fail;
	return 0;
fail:
	/* Closing the only fd of a non-persistent TUN device deletes it. */
	wg_tun_close(t);
	return rc;
}

int wg_tun_attach_queue(struct wg_tun *t, const char *name, unsigned mtu, char *err, size_t errlen)
{
	int rc;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (!name || !*name || strchr(name, '%') || strlen(name) >= IFNAMSIZ) {
		snprintf(err, errlen, "a TUN device shared by several workers needs a fixed name (tun-device), not \"%s\"",
			 name ? name : "");
		return -EINVAL;
	}
	if ((rc = create_device(t, name, err, errlen)) < 0)
		return rc;
	t->mtu = mtu;
	return 0;
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

/* "24" -> 24; only 1 to 3 decimal digits, nothing else. */
static int parse_prefix_len(const char *s)
{
	int n = 0, digits = 0;

	for (; *s; s++, digits++) {
		if (*s < '0' || *s > '9' || digits == 3)
			return -1;
		n = n * 10 + (*s - '0');
	}
	return digits ? n : -1;
}

/* "255.255.255.0" -> 24; a mask with holes is not a netmask. */
static int mask_to_prefix_len(const char *mask)
{
	struct in_addr a;
	uint32_t m;
	int n = 0;

	if (inet_pton(AF_INET, mask, &a) != 1)
		return -1;
	for (m = ntohl(a.s_addr); m & 0x80000000u; m <<= 1)
		n++;
	return m ? -1 : n;
}

static int first_host6(const char *net, const char *len, char *addr, size_t addrlen, unsigned *prefix)
{
	struct in6_addr a;
	int p = parse_prefix_len(len);

	/* /128 leaves no address for clients. */
	if (p < 1 || p > 127 || inet_pton(AF_INET6, net, &a) != 1)
		return -1;
	for (int i = 0; i < 16; i++) {
		int keep = p - 8 * i; /* network bits in this byte */
		a.s6_addr[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
	a.s6_addr[15] |= 1;
	if (!inet_ntop(AF_INET6, &a, addr, (socklen_t)addrlen))
		return -1;
	*prefix = (unsigned)p;
	return 0;
}

static int first_host4(const char *net, const char *len, char *addr, size_t addrlen, unsigned *prefix)
{
	struct in_addr a;
	int p = strchr(len, '.') ? mask_to_prefix_len(len) : parse_prefix_len(len);

	/* /31 and /32 leave no address for clients. */
	if (p < 1 || p > 30 || inet_pton(AF_INET, net, &a) != 1)
		return -1;
	a.s_addr = htonl((ntohl(a.s_addr) & (~0u << (32 - p))) + 1);
	if (!inet_ntop(AF_INET, &a, addr, (socklen_t)addrlen))
		return -1;
	*prefix = (unsigned)p;
	return 0;
}

int wg_net_first_host(const char *cidr, char *addr, size_t addrlen, unsigned *prefix)
{
	char net[INET6_ADDRSTRLEN + 1];
	const char *slash;

	if (!cidr || !(slash = strchr(cidr, '/')) || (size_t)(slash - cidr) >= sizeof(net))
		return -1;
	memcpy(net, cidr, (size_t)(slash - cidr));
	net[slash - cidr] = '\0';
	if (strchr(net, ':'))
		return first_host6(net, slash + 1, addr, addrlen, prefix);
	return first_host4(net, slash + 1, addr, addrlen, prefix);
}
