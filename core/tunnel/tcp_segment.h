/* TUN -> clients: what a TUN device with offloads hands over (a virtio-net
 * header, then one IP packet that may be a 64 KB TCP or UDP super-packet
 * with its L4 checksum left partial) turned into ordinary IP packets, each
 * with correct lengths, IPv4 IDs, TCP sequence numbers and flags, and full
 * IP/TCP/UDP checksums, as the client's stack expects from the wire.
 * A pure function: no I/O, fuzzed on its own (tests/fuzz/fuzz_gso.c). */
#ifndef WG_TCP_SEGMENT_H
#define WG_TCP_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "tunnel/vnet_hdr.h"

/* Room wg_gso_split needs in its scratch buffer beyond the headroom: the
 * largest segment (an IP packet is at most 65535 bytes). */
#define WG_GSO_SCRATCH_MIN 65536

enum wg_gso_error {
	WG_GSO_BAD_HDR = -1,    /* the virtio header contradicts the packet */
	WG_GSO_BAD_PACKET = -2, /* truncated or unsupported IP/L4 headers */
	WG_GSO_UNSUPPORTED = -3 /* a GSO type we never enable (UFO) */
};

/* Called once per resulting packet, in order. `pkt` has `headroom`
 * writable bytes before it, and stays valid only until the callback
 * returns. */
typedef void (*wg_seg_fn)(void *arg, uint8_t *pkt, size_t len);

/* Splits pkt (len bytes, as read after header h) into packets for emit.
 * - Not GSO: pkt itself is passed on (its checksum completed in place if
 *   NEEDS_CSUM); headroom is then whatever the caller left before pkt.
 * - TCPV4/TCPV6/UDP_L4: each segment is built in scratch (scratch_len >=
 *   headroom + WG_GSO_SCRATCH_MIN) behind `headroom` bytes.
 * Returns the number of packets passed to emit, or a negative
 * enum wg_gso_error when the packet is dropped (nothing emitted). */
int wg_gso_split(const struct wg_vnet_hdr *h, uint8_t *pkt, size_t len, uint8_t *scratch, size_t scratch_len,
		 size_t headroom, wg_seg_fn emit, void *arg);

/* Completes a partial checksum (NEEDS_CSUM) in place. Returns 0, or -1 if
 * csum_start/csum_offset do not lie inside the packet. */
int wg_csum_complete(uint8_t *pkt, size_t len, uint16_t csum_start, uint16_t csum_offset);

#endif
