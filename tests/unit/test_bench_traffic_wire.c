/* wolfguard-bench --traffic's datagrams (tools/bench/traffic_wire.c): what
 * the bench and wolfguard-bench-sink build, and what they accept back from
 * the network (the sink's UDP payloads, the tunnel's IPv4 packets). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <string.h>

#include "traffic_wire.h"

static uint32_t addr(const char *s)
{
	struct in_addr a;
	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

Test(bench_traffic_wire, data_round_trip_through_ip)
{
	uint8_t p[1500];
	struct wgb_tw_msg m = {.run = 0xdeadbeef, .session = 999, .kind = WGB_TW_DATA, .seq = 0x0102030405060708ull}, r;
	uint16_t sport;
	size_t ip_len;

	cr_assert_eq(wgb_tw_ip_packet(p, sizeof(p), 1200, addr("10.8.0.2"), 10999, addr("203.0.113.2"), 9000, &m), 1200);
	cr_assert_eq(p[0], 0x45);
	cr_assert_eq(p[9], 17);
	cr_assert_eq(p[2] << 8 | p[3], 1200);
	cr_assert_eq(p[24] << 8 | p[25], 1180, "UDP length");
	cr_assert_eq(wgb_tw_parse_ip(p, 1200, &r, &sport, &ip_len), 0);
	cr_assert_eq(sport, 10999);
	cr_assert_eq(ip_len, 1200);
	cr_assert_eq(r.run, 0xdeadbeef);
	cr_assert_eq(r.session, 999);
	cr_assert_eq(r.kind, WGB_TW_DATA);
	cr_assert_eq(r.seq, 0x0102030405060708ull);
	/* A header checksum a kernel accepts: the sum over the header is 0xffff. */
	uint32_t s = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	cr_assert_eq(s, 0xffff);
}

Test(bench_traffic_wire, report_carries_counters)
{
	uint8_t p[WGB_TW_REPORT_LEN];
	struct wgb_tw_msg m = {.run = 7, .session = 3, .kind = WGB_TW_REPORT, .rx_pkts = 1, .rx_bytes = 1ull << 40,
			       .tx_pkts = 3, .tx_bytes = 4}, r;

	cr_assert_eq(wgb_tw_put(p, sizeof(p), &m), WGB_TW_REPORT_LEN);
	cr_assert_eq(wgb_tw_parse(p, sizeof(p), &r), 0);
	cr_assert_eq(r.rx_bytes, 1ull << 40);
	cr_assert_eq(r.tx_pkts, 3);
	cr_assert_eq(r.tx_bytes, 4);
	/* cut short: the counters are missing */
	cr_assert_eq(wgb_tw_parse(p, WGB_TW_REPORT_LEN - 1, &r), -1);
	cr_assert_eq(wgb_tw_put(p, WGB_TW_REPORT_LEN - 1, &m), 0, "no room");
}

Test(bench_traffic_wire, foreign_payloads_refused)
{
	uint8_t p[64];
	struct wgb_tw_msg m = {.run = 1, .session = 2, .kind = WGB_TW_DATA}, r;

	wgb_tw_put(p, sizeof(p), &m);
	cr_assert_eq(wgb_tw_parse(p, WGB_TW_HDR - 1, &r), -1, "short");
	p[0] ^= 1;
	cr_assert_eq(wgb_tw_parse(p, WGB_TW_HDR, &r), -1, "magic");
	p[0] ^= 1;
	p[12] = 9;
	cr_assert_eq(wgb_tw_parse(p, WGB_TW_HDR, &r), -1, "kind");
	p[12] = WGB_TW_REPORT_REQ;
	cr_assert_eq(wgb_tw_parse(p, WGB_TW_HDR, &r), 0);
}

Test(bench_traffic_wire, ip_packets_checked)
{
	uint8_t p[200], q[200];
	struct wgb_tw_msg m = {.run = 1, .session = 2, .kind = WGB_TW_DATA}, r;
	uint16_t sport;
	size_t ip_len;

	cr_assert_eq(wgb_tw_ip_packet(p, sizeof(p), 100, addr("10.8.0.2"), 1, addr("203.0.113.2"), 9000, &m), 100);
	cr_assert_eq(wgb_tw_ip_packet(p, sizeof(p), WGB_TW_MIN_PACKET - 1, 0, 1, 0, 2, &m), 0, "too small");
	cr_assert_eq(wgb_tw_ip_packet(p, 99, 100, 0, 1, 0, 2, &m), 0, "no room");
	cr_assert_eq(wgb_tw_parse_ip(p, 99, &r, &sport, &ip_len), -1, "truncated below the IP length");
	memcpy(q, p, 100);
	q[0] = 0x65;
	cr_assert_eq(wgb_tw_parse_ip(q, 100, &r, &sport, &ip_len), -1, "IPv6 version nibble");
	memcpy(q, p, 100);
	q[0] = 0x44;
	cr_assert_eq(wgb_tw_parse_ip(q, 100, &r, &sport, &ip_len), -1, "header length below 20");
	memcpy(q, p, 100);
	q[9] = 6;
	cr_assert_eq(wgb_tw_parse_ip(q, 100, &r, &sport, &ip_len), -1, "TCP");
	memcpy(q, p, 100);
	q[6] = 0x20;
	cr_assert_eq(wgb_tw_parse_ip(q, 100, &r, &sport, &ip_len), -1, "more fragments");
	memcpy(q, p, 100);
	q[7] = 1;
	cr_assert_eq(wgb_tw_parse_ip(q, 100, &r, &sport, &ip_len), -1, "fragment offset");
	memcpy(q, p, 100);
	q[24] = 1; /* UDP length 256 + 80 beyond the packet */
	cr_assert_eq(wgb_tw_parse_ip(q, 100, &r, &sport, &ip_len), -1, "UDP length");
	memcpy(q, p, 100);
	q[25] = 7;
	q[24] = 0;
	cr_assert_eq(wgb_tw_parse_ip(q, 100, &r, &sport, &ip_len), -1, "UDP length below its header");
	/* Trailing bytes after the IP length (link padding) are ignored. */
	cr_assert_eq(wgb_tw_parse_ip(p, 120, &r, &sport, &ip_len), 0);
	cr_assert_eq(ip_len, 100);
}
