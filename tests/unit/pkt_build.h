/* Test helpers: IPv4/IPv6 TCP and UDP packets with correct checksums, and a
 * reference Internet checksum written the slow, obvious way (16-bit
 * big-endian words), to check the fast one against. */
#ifndef WG_TEST_PKT_BUILD_H
#define WG_TEST_PKT_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t ref_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t ref_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void ref_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void ref_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Sum of 16-bit big-endian words, odd byte padded with zero, folded. */
static inline uint32_t ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* Sum of the L4 pseudo-header. */
static inline uint32_t ref_pseudo(const uint8_t *ip, uint8_t proto, size_t l4len)
{
	bool v6 = (ip[0] >> 4) == 6;
	uint32_t s = v6 ? ref_sum(ip + 8, 32, 0) : ref_sum(ip + 12, 8, 0);

	s += proto;
	s += (uint32_t)l4len;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* True if the IP header checksum (v4) and the L4 checksum verify. */
static inline bool ref_checksums_ok(const uint8_t *ip, size_t len)
{
	bool v6 = (ip[0] >> 4) == 6;
	size_t ihl = v6 ? 40 : (size_t)(ip[0] & 15) * 4;
	uint8_t proto = v6 ? ip[6] : ip[9];

	if (!v6 && ref_sum(ip, ihl, 0) != 0xffff)
		return false;
	if (proto != 6 && proto != 17)
		return true;
	return ref_sum(ip + ihl, len - ihl, ref_pseudo(ip, proto, len - ihl)) == 0xffff;
}

static inline void ref_fill_checksums(uint8_t *ip, size_t len)
{
	bool v6 = (ip[0] >> 4) == 6;
	size_t ihl = v6 ? 40 : (size_t)(ip[0] & 15) * 4;
	uint8_t proto = v6 ? ip[6] : ip[9];
	size_t off = proto == 6 ? 16 : 6;

	if (!v6) {
		ip[10] = ip[11] = 0;
		ref_wr16(ip + 10, (uint16_t)~ref_sum(ip, ihl, 0));
	}
	if (proto != 6 && proto != 17)
		return;
	ip[ihl + off] = ip[ihl + off + 1] = 0;
	uint16_t c = (uint16_t)~ref_sum(ip + ihl, len - ihl, ref_pseudo(ip, proto, len - ihl));
	if (c == 0 && proto == 17)
		c = 0xffff;
	ref_wr16(ip + ihl + off, c);
}

struct tcp_spec {
	int family;       /* 4 or 6 */
	uint32_t seq, ack;
	uint8_t flags;    /* TCP flags byte */
	uint16_t id;      /* IPv4 ID */
	uint16_t window;
	size_t optlen;    /* TCP options, a multiple of 4 */
	uint8_t opt_fill; /* option bytes' value (timestamps differ per packet if this does) */
	uint16_t sport, dport;
	uint8_t ttl;
};

/* Payload byte i of a stream: the same function everywhere so any split or
 * merge can be checked against the original stream. */
static inline uint8_t stream_byte(uint32_t seq)
{
	return (uint8_t)(seq * 7 + (seq >> 8) * 13 + 1);
}

/* A packet of `payload` stream bytes starting at spec->seq. Returns its length. */
static inline size_t build_tcp(uint8_t *p, const struct tcp_spec *t, size_t payload)
{
	size_t ihl = t->family == 6 ? 40 : 20, thl = 20 + t->optlen, len = ihl + thl + payload;
	uint8_t *th = p + ihl;

	memset(p, 0, ihl + thl);
	if (t->family == 4) {
		p[0] = 0x45;
		ref_wr16(p + 2, (uint16_t)len);
		ref_wr16(p + 4, t->id);
		p[6] = 0x40; /* DF */
		p[8] = t->ttl ? t->ttl : 64;
		p[9] = 6;
		const uint8_t src[4] = {10, 8, 0, 2}, dst[4] = {192, 168, 50, 10};
		memcpy(p + 12, src, 4);
		memcpy(p + 16, dst, 4);
	} else {
		p[0] = 0x60;
		p[1] = 0x01; /* a flow label */
		ref_wr16(p + 4, (uint16_t)(len - 40));
		p[6] = 6;
		p[7] = t->ttl ? t->ttl : 64;
		p[8] = 0xfd;
		p[23] = 2;
		p[24] = 0xfd;
		p[25] = 0x50;
		p[39] = 10;
	}
	ref_wr16(th, t->sport ? t->sport : 40000);
	ref_wr16(th + 2, t->dport ? t->dport : 5201);
	ref_wr32(th + 4, t->seq);
	ref_wr32(th + 8, t->ack);
	th[12] = (uint8_t)((thl / 4) << 4);
	th[13] = t->flags;
	ref_wr16(th + 14, t->window ? t->window : 512);
	memset(th + 20, t->opt_fill ? t->opt_fill : 1, t->optlen);
	for (size_t i = 0; i < payload; i++)
		p[ihl + thl + i] = stream_byte(t->seq + (uint32_t)i);
	ref_fill_checksums(p, len);
	return len;
}

static inline size_t build_udp(uint8_t *p, int family, size_t payload)
{
	size_t ihl = family == 6 ? 40 : 20, len = ihl + 8 + payload;

	memset(p, 0, ihl + 8);
	if (family == 4) {
		p[0] = 0x45;
		ref_wr16(p + 2, (uint16_t)len);
		ref_wr16(p + 4, 0x1234);
		p[8] = 64;
		p[9] = 17;
		p[12] = 10, p[13] = 9, p[15] = 1;
		p[16] = 10, p[17] = 8, p[19] = 2;
	} else {
		p[0] = 0x60;
		ref_wr16(p + 4, (uint16_t)(len - 40));
		p[6] = 17;
		p[7] = 64;
		p[8] = 0xfd, p[23] = 1;
		p[24] = 0xfd, p[39] = 2;
	}
	ref_wr16(p + ihl, 53);
	ref_wr16(p + ihl + 2, 33333);
	ref_wr16(p + ihl + 4, (uint16_t)(8 + payload));
	for (size_t i = 0; i < payload; i++)
		p[ihl + 8 + i] = stream_byte((uint32_t)i);
	ref_fill_checksums(p, len);
	return len;
}

#endif
