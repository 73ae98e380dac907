/* RFC 1071 Internet checksum. Words are summed 32 bits at a time into a
 * 64-bit accumulator (no carry handling in the loop: 2^32 additions fit)
 * and folded at the end; 65536 = 1 mod 0xffff makes that equal to the sum
 * of 16-bit words. */
#include "tunnel/inet_csum.h"

#include <arpa/inet.h>
#include <string.h>

uint64_t wg_csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	uint32_t w;
	uint16_t h;

	while (len >= 16) {
		uint32_t a, b, c, d;
		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		memcpy(&c, p + 8, 4);
		memcpy(&d, p + 12, 4);
		sum += (uint64_t)a + b + c + d;
		p += 16;
		len -= 16;
	}
	while (len >= 4) {
		memcpy(&w, p, 4);
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* The odd last byte is the high-order byte of a word padded
		 * with zero: in memory order, the byte at the lower address. */
		h = 0;
		memcpy(&h, p, 1);
		sum += h;
	}
	return sum;
}

uint64_t wg_csum_pseudo(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t l4_len)
{
	size_t alen = family == 4 ? 4 : 16;
	uint64_t sum = wg_csum_add(0, src, alen);

	sum = wg_csum_add(sum, dst, alen);
	sum += htons(proto);
	sum += htons((uint16_t)(l4_len >> 16)); /* 0 except IPv6 jumbograms */
	sum += htons((uint16_t)l4_len);
	return sum;
}

uint16_t wg_csum_ipv4_header(const uint8_t *iph, size_t ihl)
{
	uint64_t sum = wg_csum_add(0, iph, 10); /* up to the checksum field */

	sum = wg_csum_add(sum, iph + 12, ihl - 12);
	return wg_csum_finish(sum);
}
