/* Clients -> TUN: userspace GRO. Consecutive TCP segments of one flow that
 * a client sent (one per DTLS record or CSTP frame) are merged into one
 * super-packet written to the TUN device with a virtio-net header (GSO
 * TCPV4/TCPV6, gso_size = the segments' payload, NEEDS_CSUM), so the kernel
 * forwards 64 KB at a time and cuts it again only where it must (usually a
 * NIC or veth with TSO, i.e. never in software).
 *
 * A segment joins the flow's pending packet only if it is the exact
 * continuation a NIC's GRO would accept: same addresses and ports, the
 * next sequence number, ACK (and PSH on the last one) as its only flags,
 * the same ACK number, window, TCP options (byte for byte), IPv4 TOS/TTL/
 * DF or IPv6 traffic class/flow label/hop limit, no IP options or
 * fragmentation, valid IP and TCP checksums, and a payload equal to the
 * first segment's (a shorter one ends the flow's packet). Everything else
 * is written as it came, after the pending packet of its own flow, so no
 * flow is reordered.
 *
 * Pure logic over caller-owned output: the emit callback does the writing.
 * Fuzzed with the segmenter as its inverse (tests/fuzz/fuzz_gro.c). */
#ifndef WG_TCP_COALESCE_H
#define WG_TCP_COALESCE_H

#include <stddef.h>
#include <stdint.h>

#include "tunnel/vnet_hdr.h"

/* Writes one packet with its virtio-net header (gso_type NONE and flags 0
 * for a packet passed through unchanged). */
typedef void (*wg_gro_emit_fn)(void *arg, const struct wg_vnet_hdr *h, const uint8_t *pkt, size_t len);

struct wg_gro;

/* NULL when out of memory. */
struct wg_gro *wg_gro_new(wg_gro_emit_fn emit, void *arg);
void wg_gro_free(struct wg_gro *g);
/* Takes one IP packet (copied if it may be merged, else emitted at once). */
void wg_gro_add(struct wg_gro *g, const uint8_t *pkt, size_t len);
/* Emits every pending packet. Call at the end of each burst. */
void wg_gro_flush(struct wg_gro *g);
/* True while packets are pending. */
int wg_gro_pending(const struct wg_gro *g);

#endif
