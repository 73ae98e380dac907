/* Datagrams for many peers gathered during one burst and sent with as few
 * system calls as possible: one sendmmsg() per flush, in which each run of
 * equal-size datagrams to the same peer is a single message with a
 * UDP_SEGMENT control message (UDP GSO: the kernel cuts it, so the UDP/IP/
 * veth work is paid once per run instead of once per datagram). The last
 * datagram of a run may be shorter.
 *
 * If the kernel refuses GSO (EIO: the route's device cannot checksum;
 * EINVAL), the refused run is sent as single datagrams and GSO stays off for
 * this batch object (logged once). EMSGSIZE splits only that run. A full
 * socket buffer drops what is left, as a send queue on a router would.
 *
 * Each datagram may name its source address (udp_local.h: the address its
 * peer sent to, on a socket bound to the wildcard address); it rides in the
 * same message's control data next to UDP_SEGMENT, so it costs no system
 * call. Runs split where the source changes. A source the host no longer
 * has (EINVAL, EADDRNOTAVAIL) is dropped from that run, which is sent again
 * from the route's source. */
#ifndef WG_UDP_BATCH_H
#define WG_UDP_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "udp_local.h"

#define WG_UDP_BATCH_MSGS 64     /* messages per sendmmsg */
#define WG_UDP_BATCH_SEGS 64     /* datagrams per GSO message (kernel: 64 or more) */
#define WG_UDP_GSO_MAX_BYTES 63000 /* payload per GSO message, under the 64 KB IP limit */
#define WG_UDP_BATCH_BYTES (256 * 1024)

struct mmsghdr;
/* sendmmsg(2); replaceable for tests. */
typedef int (*wg_sendmmsg_fn)(int fd, struct mmsghdr *msgs, unsigned n, int flags);

struct wg_udp_run {
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct wg_udp_local src; /* family 0: the route's source */
	size_t off;      /* in buf */
	size_t len;      /* bytes of all its datagrams */
	size_t seg_size; /* size of each datagram but the last */
	unsigned segs;
	bool closed;     /* a shorter datagram ended it */
};

struct wg_udp_batch {
	int fd;
	bool gso;         /* UDP_SEGMENT may be used */
	bool gso_refused; /* the kernel said no once: logged, not retried */
	wg_sendmmsg_fn send;
	unsigned nruns;
	size_t used;
	uint64_t sent, dropped; /* datagrams, for tests and statistics */
	struct wg_udp_run runs[WG_UDP_BATCH_MSGS];
	uint8_t buf[WG_UDP_BATCH_BYTES];
};

/* gso: try UDP_SEGMENT (false sends every datagram as its own message). */
void wg_udp_batch_init(struct wg_udp_batch *b, int fd, bool gso, wg_sendmmsg_fn send);
/* Queues one datagram (copied) to peer from src (NULL: the route's
 * source); flushes first when the batch is full. Returns 0, or -1 if it is
 * larger than a datagram may be (dropped). */
int wg_udp_batch_add(struct wg_udp_batch *b, const struct sockaddr *peer, socklen_t peer_len,
		     const struct wg_udp_local *src, const void *data, size_t len);
/* Sends everything queued. */
void wg_udp_batch_flush(struct wg_udp_batch *b);
static inline bool wg_udp_batch_empty(const struct wg_udp_batch *b)
{
	return b->nruns == 0;
}

#endif
