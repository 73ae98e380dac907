/* The traffic mode's datagrams (see traffic_wire.h). */
#include "traffic_wire.h"

#include <string.h>

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

size_t wgb_tw_put(uint8_t *p, size_t cap, const struct wgb_tw_msg *m)
{
	size_t n = m->kind == WGB_TW_REPORT ? WGB_TW_REPORT_LEN : WGB_TW_HDR;

	if (cap < n)
		return 0;
	memset(p, 0, n);
	put32(p, WGB_TW_MAGIC);
	put32(p + 4, m->run);
	put32(p + 8, m->session);
	p[12] = m->kind;
	put64(p + 16, m->seq);
	if (m->kind == WGB_TW_REPORT) {
		put64(p + 24, m->rx_pkts);
		put64(p + 32, m->rx_bytes);
		put64(p + 40, m->tx_pkts);
		put64(p + 48, m->tx_bytes);
	}
	return n;
}

int wgb_tw_parse(const uint8_t *p, size_t len, struct wgb_tw_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (len < WGB_TW_HDR || get32(p) != WGB_TW_MAGIC)
		return -1;
	m->run = get32(p + 4);
	m->session = get32(p + 8);
	m->kind = p[12];
	m->seq = get64(p + 16);
	switch (m->kind) {
	case WGB_TW_DATA:
	case WGB_TW_REPORT_REQ:
		return 0;
	case WGB_TW_REPORT:
		if (len < WGB_TW_REPORT_LEN)
			return -1;
		m->rx_pkts = get64(p + 24);
		m->rx_bytes = get64(p + 32);
		m->tx_pkts = get64(p + 40);
		m->tx_bytes = get64(p + 48);
		return 0;
	default:
		return -1;
	}
}

static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

size_t wgb_tw_ip_packet(uint8_t *out, size_t cap, size_t len, uint32_t src_be, uint16_t sport, uint32_t dst_be,
			uint16_t dport, const struct wgb_tw_msg *m)
{
	uint16_t c;

	if (len < WGB_TW_IP_UDP + (m->kind == WGB_TW_REPORT ? WGB_TW_REPORT_LEN : WGB_TW_HDR) || len > cap ||
	    len > 0xffff)
		return 0;
	memset(out, 0, len);
	out[0] = 0x45;
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	out[6] = 0x40; /* DF: the tunnel's MTU, not fragmentation, bounds the size */
	out[8] = 64;   /* TTL */
	out[9] = 17;   /* UDP */
	memcpy(out + 12, &src_be, 4);
	memcpy(out + 16, &dst_be, 4);
	c = ip_csum(out, 20);
	out[10] = (uint8_t)(c >> 8);
	out[11] = (uint8_t)c;
	out[20] = (uint8_t)(sport >> 8);
	out[21] = (uint8_t)sport;
	out[22] = (uint8_t)(dport >> 8);
	out[23] = (uint8_t)dport;
	out[24] = (uint8_t)((len - 20) >> 8);
	out[25] = (uint8_t)(len - 20);
	wgb_tw_put(out + WGB_TW_IP_UDP, len - WGB_TW_IP_UDP, m);
	return len;
}

int wgb_tw_parse_ip(const uint8_t *pkt, size_t len, struct wgb_tw_msg *m, uint16_t *sport, size_t *ip_len)
{
	size_t ihl, total, ulen;

	if (len < 20 || (pkt[0] >> 4) != 4)
		return -1;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	total = (size_t)pkt[2] << 8 | pkt[3];
	if (ihl < 20 || total < ihl + 8 || total > len)
		return -1;
	/* A fragment (more fragments, or an offset) is not one of ours. */
	if ((pkt[6] & 0x20) || ((pkt[6] & 0x1f) | pkt[7]))
		return -1;
	if (pkt[9] != 17)
		return -1;
	ulen = (size_t)pkt[ihl + 4] << 8 | pkt[ihl + 5];
	if (ulen < 8 || ulen > total - ihl)
		return -1;
	if (wgb_tw_parse(pkt + ihl + 8, ulen - 8, m) < 0)
		return -1;
	*sport = (uint16_t)(pkt[ihl] << 8 | pkt[ihl + 1]);
	*ip_len = total;
	return 0;
}
