/* The lanes protocol's texts and messages (see lane_msg.h). */
#include "lane_msg.h"

#include <stdio.h>
#include <string.h>

unsigned wg_lane_parse_request(const char *value)
{
	unsigned n = 0;

	if (!value || value[0] < '1' || value[0] > '9')
		return 0;
	for (const char *p = value; *p; p++) {
		if (*p < '0' || *p > '9' || p - value >= 2)
			return 0;
		n = n * 10 + (unsigned)(*p - '0');
	}
	return n <= WG_LANES_MAX ? n : 0;
}

void wg_lane_identity_format(const uint8_t sid[WG_LANE_SID_LEN], unsigned lane, char *out)
{
	static const char hex[] = "0123456789abcdef";
	char *p = out;

	memcpy(p, WG_LANE_IDENTITY_PREFIX, 5);
	p += 5;
	for (size_t i = 0; i < WG_LANE_SID_LEN; i++) {
		*p++ = hex[sid[i] >> 4];
		*p++ = hex[sid[i] & 15];
	}
	snprintf(p, WG_LANE_IDENTITY_MAX - (size_t)(p - out), ":%u", lane % 100);
}

static int hex_digit(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int wg_lane_identity_parse(const uint8_t *id, size_t len, uint8_t sid[WG_LANE_SID_LEN], unsigned *lane)
{
	const size_t fixed = 5 + 2 * WG_LANE_SID_LEN + 1;
	unsigned n = 0;

	if (!id || len <= fixed || len > fixed + 2 || memcmp(id, WG_LANE_IDENTITY_PREFIX, 5) != 0 ||
	    id[fixed - 1] != ':')
		return -1;
	for (size_t i = 0; i < WG_LANE_SID_LEN; i++) {
		int hi = hex_digit(id[5 + 2 * i]), lo = hex_digit(id[6 + 2 * i]);
		if (hi < 0 || lo < 0)
			return -1;
		sid[i] = (uint8_t)(hi << 4 | lo);
	}
	if (len - fixed == 2 && id[fixed] == '0')
		return -1; /* a leading zero: one spelling per lane */
	for (size_t i = fixed; i < len; i++) {
		if (id[i] < '0' || id[i] > '9')
			return -1;
		n = n * 10 + (unsigned)(id[i] - '0');
	}
	if (n >= WG_LANES_MAX)
		return -1;
	*lane = n;
	return 0;
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = n; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
}

int wg_lane_msg_parse(const uint8_t *buf, size_t len, size_t mtu, struct wg_lane_msg *out)
{
	memset(out, 0, sizeof(*out));
	if (!buf || len == 0)
		return -1;
	out->type = buf[0];
	switch (buf[0]) {
	case WG_LANE_MSG_DATA:
		if (len < 2 || len - 1 > mtu)
			return -1;
		out->packet = buf + 1;
		out->len = len - 1;
		return 0;
	case WG_LANE_MSG_PROBE:
	case WG_LANE_MSG_PROBE_ACK:
		if (len < WG_LANE_PROBE_LEN)
			return -1;
		out->seq = (uint32_t)get_be(buf + 1, 4);
		out->stamp = get_be(buf + 5, 8);
		out->rx_bytes = get_be(buf + 13, 8);
		return 0;
	default: /* CLOSE, and types of later versions: the caller decides */
		return 0;
	}
}

void wg_lane_probe_write(uint8_t *out, uint8_t type, uint32_t seq, uint64_t stamp, uint64_t rx_bytes)
{
	out[0] = type;
	put_be(out + 1, seq, 4);
	put_be(out + 5, stamp, 8);
	put_be(out + 13, rx_bytes, 8);
}
