/* The Internet checksum (RFC 1071), in pieces that add up: a sum over one
 * region, more regions and pseudo-header fields added to it, then folded.
 *
 * Sums are kept in "memory order": 16-bit words are read as the host reads
 * them, and the folded result stored back with memcpy is the checksum's
 * bytes as they go on the wire, on either endianness (a ones-complement sum
 * commutes with byte swapping). Numbers (lengths, protocol) are therefore
 * added in network order: wg_csum_add_u16(sum, htons(x)). */
#ifndef WG_INET_CSUM_H
#define WG_INET_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds len bytes at p to sum. Every piece but the last of one checksummed
 * region must have an even length. */
uint64_t wg_csum_add(uint64_t sum, const uint8_t *p, size_t len);

static inline uint64_t wg_csum_add_u16(uint64_t sum, uint16_t v_memory_order)
{
	return sum + v_memory_order;
}

/* Folds to 16 bits, not complemented (what a partial checksum field holds). */
static inline uint16_t wg_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The value for a checksum field: complemented fold. */
static inline uint16_t wg_csum_finish(uint64_t sum)
{
	return (uint16_t)~wg_csum_fold(sum);
}

/* Pseudo-header of TCP/UDP: addresses, protocol, L4 length. family is 4
 * (4-byte addresses) or 6 (16-byte). */
uint64_t wg_csum_pseudo(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t l4_len);

/* The IPv4 header checksum, computed over ihl bytes with the field itself
 * taken as zero. Returns the field value in memory order. */
uint16_t wg_csum_ipv4_header(const uint8_t *iph, size_t ihl);

#endif
