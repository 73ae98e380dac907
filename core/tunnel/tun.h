/* The one TUN device all sessions share: packets for every client address
 * arrive here and are sent to their session by destination address. */
#ifndef WG_TUN_H
#define WG_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tunnel/tcp_segment.h"
#include "tunnel/vnet_hdr.h"

struct wg_gro;

/* Bytes every packet handed out by wg_tun_read_split() has free before it,
 * for a CSTP header or a DTLS type byte. */
#define WG_TUN_HEADROOM 16

struct wg_tun {
	int fd;            /* nonblocking, IFF_TUN | IFF_NO_PI [| IFF_VNET_HDR] */
	char name[16];     /* actual interface name */
	unsigned mtu;
	/* Offloads. With vnet, every read and write starts with a virtio-net
	 * header; offloads holds the TUN_F_* bits the kernel accepted (TSO:
	 * reads may be 64 KB TCP super-packets; CSUM: checksums may be left
	 * partial; USO: UDP super-packets). */
	bool vnet;
	unsigned offloads;
	/* Owned buffers of the data path (NULL until open succeeds). */
	uint8_t *rbuf;     /* one read: headroom, virtio header, packet */
	uint8_t *scratch;  /* one segment being built */
	struct wg_gro *gro; /* packets to write, merged per TCP flow */
	bool queueing;     /* wg_tun_queue() holds packets until wg_tun_flush() */
	uint64_t bad_reads; /* super-packets refused by the segmenter */
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
 * of the device `name` (already configured and up), with the same flags and
 * offloads. Queues are numbered in the order they are attached. */
void wg_tun_use_multi_queue(bool on);

/* The device's txqueuelen, set when wg_tun_open() creates it: per queue,
 * the packets from the LAN the kernel holds while the reader is busy
 * ("tun-queue-length"; 0: the default). */
#define WG_TUN_QUEUE_LEN_DEFAULT 4096
void wg_tun_set_queue_length(unsigned packets);
int wg_tun_attach_queue(struct wg_tun *t, const char *name, unsigned mtu, char *err, size_t errlen);

/* One plain packet each; -1 with errno EAGAIN when nothing is ready / the
 * queue is full. No allocation. With offloads on, a read completes a
 * partial checksum, and a GSO super-packet (which one buffer cannot return
 * as packets) is refused with EMSGSIZE: the data path uses
 * wg_tun_read_split(). */
ssize_t wg_tun_read(struct wg_tun *t, uint8_t *buf, size_t len);
ssize_t wg_tun_write(struct wg_tun *t, const uint8_t *pkt, size_t len);

/* Reads one packet and hands emit the plain IP packets it holds: one, or
 * the segments of a super-packet, each with WG_TUN_HEADROOM writable bytes
 * before it. Returns how many were emitted (0: a malformed one dropped), or
 * -1 with errno (EAGAIN: nothing ready). */
int wg_tun_read_split(struct wg_tun *t, wg_seg_fn emit, void *arg);

/* Write batching: between wg_tun_queue_begin() and wg_tun_flush(),
 * wg_tun_queue() merges consecutive TCP segments of a flow into
 * super-packets (tcp_coalesce.h) when the device takes them; otherwise, and
 * outside a batch, it writes at once. */
void wg_tun_queue_begin(struct wg_tun *t);
void wg_tun_queue(struct wg_tun *t, const uint8_t *pkt, size_t len);
void wg_tun_flush(struct wg_tun *t);

#endif
