/* Reading the fixed IP headers of packets on the data path: one spelling
 * of the version nibble, header lengths and field offsets (RFC 791, RFC
 * 8200) for the data path, the client packet check and GSO/GRO. Inline:
 * these run for every packet. */
#ifndef WG_IP_HDR_H
#define WG_IP_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_IP4_HDR_MIN 20
#define WG_IP6_HDR_LEN 40
/* Offsets in the fixed headers. */
#define WG_IP4_PROTO 9
#define WG_IP4_SRC 12
#define WG_IP4_DST 16
#define WG_IP6_NEXT 6
#define WG_IP6_SRC 8
#define WG_IP6_DST 24

static inline unsigned wg_ip_version(const uint8_t *pkt)
{
	return pkt[0] >> 4;
}

/* 4 or 6 when pkt holds the fixed header of that version, else 0. */
static inline int wg_ip_family(const uint8_t *pkt, size_t len)
{
	if (len >= WG_IP4_HDR_MIN && wg_ip_version(pkt) == 4)
		return 4;
	if (len >= WG_IP6_HDR_LEN && wg_ip_version(pkt) == 6)
		return 6;
	return 0;
}

/* The IPv4 header length from IHL, in bytes (options included). */
static inline size_t wg_ip4_hdr_len(const uint8_t *pkt)
{
	return (size_t)(pkt[0] & 0x0f) * 4;
}

/* MF set or a fragment offset: a fragment, which is not segmented or merged. */
static inline bool wg_ip4_is_fragment(const uint8_t *pkt)
{
	return (pkt[6] & 0x3f) || pkt[7];
}

#endif
