/* UDP GRO on the DTLS socket: one receive, a train of datagrams.
 *
 * With UDP_GRO set on a socket, the kernel may hand over several datagrams
 * of one flow (same addresses and ports) as one: their payloads back to
 * back, every one gso_size bytes but the last, which may be shorter, and
 * gso_size in a UDP_GRO control message. A datagram that was not merged
 * comes as before, without that message. The merging happens where the
 * receiving interface does GRO (real NICs do by default; a veth pair only
 * after `ethtool -K <dev> gro on`), so a burst of one client's packets
 * costs one receive slot instead of one per packet.
 *
 * Each datagram of a train is still one DTLS datagram: the train is cut
 * back into them here, and DTLS never sees the difference. */
#ifndef WG_UDP_GRO_H
#define WG_UDP_GRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The control message a train comes with (the kernel puts it first, before
 * the local address of udp_local.h). */
#define WG_UDP_GRO_CMSG_SPACE CMSG_SPACE(sizeof(int))
/* The most a train holds: GRO stops merging at 64 KiB. A receive slot of
 * this size is never cut short by a train. */
#define WG_UDP_GRO_TRAIN_MAX 65536

/* Sets (on) or clears UDP_GRO on fd. true when the kernel took it (false:
 * a kernel without UDP GRO, before Linux 5.0; datagrams then come one by
 * one, as without it). */
bool wg_udp_gro_set(int fd, bool on);
/* The segment size of a received message's UDP_GRO control message, or 0
 * when it has none (a single datagram). */
size_t wg_udp_gro_size(const struct msghdr *m);

/* Cutting one received message back into its datagrams. */
struct wg_udp_train {
	uint8_t *next; /* the next datagram */
	size_t left;   /* bytes of whole datagrams not yet given */
	size_t seg;    /* the size of each but the last */
};

enum wg_udp_train_verdict {
	WG_UDP_TRAIN_WHOLE, /* every datagram of it is whole */
	WG_UDP_TRAIN_CUT,   /* the receive buffer cut it (MSG_TRUNC): the whole
			     * datagrams before the cut are given, the cut one is
			     * refused */
	WG_UDP_TRAIN_BAD,   /* nothing is given: empty, longer than the buffer,
			     * or a single datagram that was cut */
};

/* Starts cutting the message of len bytes received into buf (cap bytes
 * long), with the segment size seg (0: none, the message is one datagram)
 * and cut when the kernel reported MSG_TRUNC. Never reads past
 * min(len, cap). */
enum wg_udp_train_verdict wg_udp_train_start(struct wg_udp_train *t, uint8_t *buf, size_t cap, size_t len, size_t seg,
					     bool cut);
/* The next datagram (never empty): true and *d, *n set, or false when
 * none is left. */
bool wg_udp_train_next(struct wg_udp_train *t, uint8_t **d, size_t *n);

#endif
