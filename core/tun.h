/* The one TUN device all sessions share: packets for every client address
 * arrive here and are sent to their session by destination address. */
#ifndef WG_TUN_H
#define WG_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct wg_tun {
	int fd;            /* nonblocking, IFF_TUN | IFF_NO_PI */
	char name[16];     /* actual interface name */
	unsigned mtu;
};

/* Creates (or attaches to) the device `name`, sets MTU, assigns addr4/prefix4
 * (e.g. "10.8.0.1", 24) and, if addr6 is non-empty, addr6/prefix6, and brings
 * it up. Returns 0, or a negative errno with a reason in err. Needs
 * CAP_NET_ADMIN. A NULL or empty name means "wolfguard%d"; the kernel fills
 * in %d, and t->name holds the result. On failure t->fd is -1 and nothing is
 * left behind. wg_tun_close() may be called twice. */
int wg_tun_open(struct wg_tun *t, const char *name, unsigned mtu, const char *addr4, unsigned prefix4,
		const char *addr6, unsigned prefix6, char *err, size_t errlen);
void wg_tun_close(struct wg_tun *t);

/* Several worker processes: the device is created multi-queue, by the first
 * worker through wg_tun_open(); every other worker attaches one more queue
 * of the device `name` (already configured and up). Queues are numbered in
 * the order they are attached. */
void wg_tun_use_multi_queue(bool on);
int wg_tun_attach_queue(struct wg_tun *t, const char *name, unsigned mtu, char *err, size_t errlen);

/* One packet each; -1 with errno EAGAIN when nothing is ready / the queue is
 * full. No allocation. */
ssize_t wg_tun_read(struct wg_tun *t, uint8_t *buf, size_t len);
ssize_t wg_tun_write(struct wg_tun *t, const uint8_t *pkt, size_t len);

/* Parses "10.8.0.0/24" or "fd00::/64" into the first host address as text
 * ("10.8.0.1") and the prefix length. Returns 0 or -1. */
int wg_net_first_host(const char *cidr, char *addr, size_t addrlen, unsigned *prefix);

#endif
