/* What a client sends inside its tunnel, checked before it reaches the
 * TUN device: the IP packet itself (version, minimum length, the session's
 * own source address), whichever lane carried it. Pure functions, so they are fuzzed on their own. */
#ifndef WG_CLIENT_PACKET_H
#define WG_CLIENT_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The addresses a session may send from. */
struct wg_packet_owner {
	uint32_t addr4; /* network order, 0: none */
	bool has_addr6;
	uint8_t addr6[16];
};

enum wg_packet_verdict {
	WG_PACKET_OK = 0,
	WG_PACKET_MALFORMED = -1, /* not IPv4/IPv6, or shorter than its header */
	WG_PACKET_SPOOFED = -2,   /* source is not the session's address */
};

/* Checks pkt; on WG_PACKET_OK sets *family (4 or 6) and *dst to the
 * destination address inside pkt (4 or 16 bytes). */
enum wg_packet_verdict wg_client_packet_check(const uint8_t *pkt, size_t len, const struct wg_packet_owner *o,
					      int *family, const uint8_t **dst);

#endif
