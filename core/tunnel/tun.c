/* The shared TUN device, created and configured with ioctls: no `ip`
 * subprocess, so it works in minimal containers and reports exact errors. */
#include "tunnel/tun.h"

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
#include <sys/uio.h>
#include <unistd.h>

#include "util/log.h"
#include "tunnel/tcp_coalesce.h"

#define DEFAULT_NAME "wolfguard%d" /* the kernel replaces %d with a free number */
#define IPV6_MIN_MTU 1280          /* below this the kernel disables IPv6 on the link */
#define READ_MAX 65536             /* the largest packet a read returns (a 64 KB super-packet) */

/* Newer than some installed headers (Linux 6.2). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

/* Set by wg_tun_use_multi_queue() in worker processes (see steer.h). */
static bool multi_queue;
/* "tun-queue-length": packets the kernel holds for a queue whose reader is
 * busy (the TUN default of 500 drops bursts for many sessions). */
static unsigned tx_queue_len = WG_TUN_QUEUE_LEN_DEFAULT;

void wg_tun_set_queue_length(unsigned packets)
{
	tx_queue_len = packets ? packets : WG_TUN_QUEUE_LEN_DEFAULT;
}

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

static void gro_emit(void *arg, const struct wg_vnet_hdr *h, const uint8_t *pkt, size_t len);

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
	 * the same name and IFF_MULTI_QUEUE on one fd per worker.
	 * IFF_VNET_HDR: each packet comes with a virtio-net header, which is
	 * what lets the kernel hand over 64 KB super-packets (offloads below). */
	short mq = multi_queue ? IFF_MULTI_QUEUE : 0;
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | mq;
	t->vnet = true;
	rc = ioctl(t->fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
	if (rc == -EINVAL) {
		wg_log(NULL, WG_LOG_WARN, "TUN: IFF_VNET_HDR refused (%s); no offloads, one packet per read and write",
		       strerror(-rc));
		ifreq_init(&ifr, name);
		ifr.ifr_flags = IFF_TUN | IFF_NO_PI | mq;
		t->vnet = false;
		rc = ioctl(t->fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot create TUN device %s: %s%s", name, strerror(-rc),
			 rc == -EPERM ? " (needs root or CAP_NET_ADMIN)"
			 : rc == -EBUSY || rc == -EINVAL ? " (is the name in use by another device or process?)"
							   : "");
		return rc;
	}
	snprintf(t->name, sizeof(t->name), "%s", ifr.ifr_name);
	return 0;
}

/* Offers the kernel what the data path can finish in userspace: partial
 * checksums, TCP super-packets (IPv4, IPv6) and, on kernels that have it,
 * UDP ones. Each refusal falls back to less; none is fatal. */
static void set_offloads(struct wg_tun *t)
{
	static const unsigned tries[] = {
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
		TUN_F_CSUM,
	};
	int hdr = WG_VNET_HDR_LEN;

	t->offloads = 0;
	if (!t->vnet)
		return;
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		/* 10 is the default size; only a kernel without the ioctl says no. */
		wg_log(NULL, WG_LOG_DEBUG, "%s: TUNSETVNETHDRSZ: %s", t->name, strerror(errno));
	}
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)tries[i]) == 0) {
			t->offloads = tries[i];
			break;
		}
	}
	if (t->offloads & TUN_F_TSO4)
		wg_log(NULL, WG_LOG_INFO, "%s: offloads on: checksum, TCP segmentation%s (super-packets are split in "
		       "userspace, client packets merged per flow)", t->name,
		       t->offloads & TUN_F_USO4 ? ", UDP segmentation" : "");
	else
		wg_log(NULL, WG_LOG_WARN, "%s: the kernel refused TUN segmentation offloads (%s); one packet per read",
		       t->name, t->offloads ? "checksum offload only" : "none at all");
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
	ifr.ifr_qlen = (int)tx_queue_len;
	if ((rc = ifreq_ioctl(AF_INET, SIOCSIFTXQLEN, &ifr)) < 0) /* a tuning, not fatal */
		wg_log(NULL, WG_LOG_WARN, "%s: cannot set txqueuelen %u: %s", t->name, tx_queue_len, strerror(-rc));
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

/* What every queue's reader needs: the offloads (the device's, asked for on
 * each queue so t->offloads says what this fd gets) and its buffers. */
static int setup_queue(struct wg_tun *t, char *err, size_t errlen)
{
	set_offloads(t);
	t->rbuf = malloc(WG_TUN_HEADROOM + WG_VNET_HDR_LEN + READ_MAX);
	t->scratch = malloc(WG_TUN_HEADROOM + WG_GSO_SCRATCH_MIN);
	t->gro = wg_gro_new(gro_emit, t);
	if (!t->rbuf || !t->scratch || !t->gro) {
		snprintf(err, errlen, "%s: out of memory for the packet buffers", t->name);
		return -ENOMEM;
	}
	return 0;
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
	if ((rc = create_device(t, name, err, errlen)) < 0 || (rc = set_link(t, mtu, err, errlen)) < 0 ||
	    (rc = setup_queue(t, err, errlen)) < 0)
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
	t->mtu = mtu;
	if ((rc = create_device(t, name, err, errlen)) < 0 || (rc = setup_queue(t, err, errlen)) < 0) {
		wg_tun_close(t);
		return rc;
	}
	return 0;
}

void wg_tun_close(struct wg_tun *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->rbuf);
	free(t->scratch);
	wg_gro_free(t->gro);
	t->rbuf = t->scratch = NULL;
	t->gro = NULL;
}

ssize_t wg_tun_read(struct wg_tun *t, uint8_t *buf, size_t len)
{
	uint8_t raw[WG_VNET_HDR_LEN];
	struct iovec iov[2] = {{raw, sizeof(raw)}, {buf, len}};
	struct wg_vnet_hdr h;
	ssize_t n;

	if (!t->vnet)
		return read(t->fd, buf, len);
	n = readv(t->fd, iov, 2);
	if (n < 0)
		return -1;
	if (n < WG_VNET_HDR_LEN) {
		errno = EIO;
		return -1;
	}
	n -= WG_VNET_HDR_LEN;
	wg_vnet_hdr_parse(raw, &h);
	if (h.gso_type != WG_VNET_GSO_NONE) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((h.flags & WG_VNET_F_NEEDS_CSUM) && wg_csum_complete(buf, (size_t)n, h.csum_start, h.csum_offset) < 0) {
		errno = EIO;
		return -1;
	}
	return n;
}

static ssize_t write_with_hdr(struct wg_tun *t, const struct wg_vnet_hdr *h, const uint8_t *pkt, size_t len)
{
	uint8_t raw[WG_VNET_HDR_LEN];
	struct iovec iov[2] = {{raw, sizeof(raw)}, {(void *)pkt, len}};
	ssize_t n;

	wg_vnet_hdr_write(raw, h);
	n = writev(t->fd, iov, 2);
	return n < 0 ? -1 : n < WG_VNET_HDR_LEN ? 0 : n - WG_VNET_HDR_LEN;
}

ssize_t wg_tun_write(struct wg_tun *t, const uint8_t *pkt, size_t len)
{
	static const struct wg_vnet_hdr plain;

	if (!t->vnet)
		return write(t->fd, pkt, len);
	return write_with_hdr(t, &plain, pkt, len);
}

int wg_tun_read_split(struct wg_tun *t, wg_seg_fn emit, void *arg)
{
	uint8_t *pkt = t->rbuf + WG_TUN_HEADROOM + WG_VNET_HDR_LEN;
	struct wg_vnet_hdr h = {0};
	ssize_t n;
	int r;

	if (!t->vnet) {
		n = read(t->fd, pkt, READ_MAX);
		if (n < 0)
			return -1;
	} else {
		/* The header lands right before the packet; the packet keeps
		 * its headroom (the header's bytes are free once parsed). */
		n = read(t->fd, pkt - WG_VNET_HDR_LEN, WG_VNET_HDR_LEN + READ_MAX);
		if (n < 0)
			return -1;
		if (n < WG_VNET_HDR_LEN) {
			t->bad_reads++;
			return 0;
		}
		wg_vnet_hdr_parse(pkt - WG_VNET_HDR_LEN, &h);
		n -= WG_VNET_HDR_LEN;
	}
	if (n == 0)
		return 0;
	r = wg_gso_split(&h, pkt, (size_t)n, t->scratch, WG_TUN_HEADROOM + WG_GSO_SCRATCH_MIN, WG_TUN_HEADROOM,
			 emit, arg);
	if (r < 0) {
		if (t->bad_reads++ == 0)
			wg_log(NULL, WG_LOG_WARN,
			       "%s: dropped a packet the kernel handed over with an unusable offload header "
			       "(gso_type %u, gso_size %u, %zd bytes; error %d); later ones are only counted",
			       t->name, h.gso_type, h.gso_size, n, r);
		return 0;
	}
	return r;
}

/* The coalescer's output: a super-packet with its header, or a packet as
 * it came. A full device queue drops it, as a router would. */
static void gro_emit(void *arg, const struct wg_vnet_hdr *h, const uint8_t *pkt, size_t len)
{
	struct wg_tun *t = arg;

	if (write_with_hdr(t, h, pkt, len) < 0 && errno != EAGAIN)
		wg_log(NULL, WG_LOG_DEBUG, "writing to %s: %s", t->name, strerror(errno));
}

void wg_tun_queue_begin(struct wg_tun *t)
{
	/* Merging needs the kernel to take super-packets (TSO offered). */
	t->queueing = t->gro && (t->offloads & (TUN_F_TSO4 | TUN_F_TSO6)) == (TUN_F_TSO4 | TUN_F_TSO6);
}

void wg_tun_queue(struct wg_tun *t, const uint8_t *pkt, size_t len)
{
	if (t->queueing) {
		wg_gro_add(t->gro, pkt, len);
		return;
	}
	if (wg_tun_write(t, pkt, len) < 0 && errno != EAGAIN)
		wg_log(NULL, WG_LOG_DEBUG, "writing to %s: %s", t->name, strerror(errno));
}

void wg_tun_flush(struct wg_tun *t)
{
	if (t->gro)
		wg_gro_flush(t->gro);
	t->queueing = false;
}
