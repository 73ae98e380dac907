/* Datagram semantics for a DTLS association on a connected UDP socket:
 * a record the socket cannot take now (full send buffer) is dropped, as
 * a router drops a packet, instead of being held by wolfSSL.
 *
 * Why: with wolfSSL's own socket I/O a full buffer makes wolfSSL_write
 * return WANT_WRITE and keep the record; the NEXT wolfSSL_write sends that
 * old record first and then counts its length against the new message:
 * a new message of the same size is silently dropped, a larger one goes
 * out cut (its first bytes missing), a shorter one (a lane's PROBE-ACK
 * after a data packet) fails. On a saturated uplink that lost the lanes'
 * PROBE-ACKs and took lanes out of the rotation (docs/benchmarks.md). */
#ifndef WGC_UDP_SEND_H
#define WGC_UDP_SEND_H

#include <stdint.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

struct wgc_udp_send {
	int fd;            /* connected UDP socket */
	uint64_t dropped;  /* records the socket could not take */
};

/* After wolfSSL_set_fd (and again after any later one, which resets the
 * send context): wolfSSL sends through s, which must outlive ssl. */
void wgc_udp_send_use(WOLFSSL *ssl, struct wgc_udp_send *s, int fd);

#endif
