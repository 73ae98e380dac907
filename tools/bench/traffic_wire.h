/* The traffic mode's datagrams (wolfguard-bench --traffic and
 * wolfguard-bench-sink). Every data packet the bench sends through the
 * tunnel is an IPv4/UDP datagram from the session's tunnel address to the
 * sink, whose payload starts with this header (big-endian):
 *
 *   0  magic "WGBT"     4  run id (random per bench run)
 *   8  session index   12  kind (data, report request, report), 3 zero bytes
 *  16  sequence number (data) or 0
 *  24  report only: sink's received packets, received bytes, echoed
 *      packets, echoed bytes (4 x 64 bits)
 *
 * The sink echoes a data datagram as is (same size) from its data port;
 * it answers a report request, sent to its control port (data port + 1),
 * with a report of what it counted for that run and session. Counters
 * count inner IP bytes (IPv4 + UDP headers + payload), what crosses the
 * server's TUN. Pure functions, no I/O: the bench, the sink, the unit test
 * and the fuzz target share them. */
#ifndef WGB_TRAFFIC_WIRE_H
#define WGB_TRAFFIC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WGB_TW_MAGIC 0x57474254u /* "WGBT" */
#define WGB_TW_HDR 24
#define WGB_TW_REPORT_LEN (WGB_TW_HDR + 32)
#define WGB_TW_IP_UDP 28 /* IPv4 header without options + UDP header */
/* The smallest data packet: IP + UDP + the header. */
#define WGB_TW_MIN_PACKET (WGB_TW_IP_UDP + WGB_TW_HDR)

enum wgb_tw_kind { WGB_TW_DATA = 1, WGB_TW_REPORT_REQ = 2, WGB_TW_REPORT = 3 };

struct wgb_tw_msg {
	uint32_t run, session;
	uint8_t kind;
	uint64_t seq;
	/* report only */
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
};

/* Writes the header (and, for a report, the counters) at p; returns the
 * bytes written, 0 when cap is too small. */
size_t wgb_tw_put(uint8_t *p, size_t cap, const struct wgb_tw_msg *m);

/* Reads a UDP payload; 0, or -1 when it is not one of ours (short, wrong
 * magic, unknown kind, a report without its counters). */
int wgb_tw_parse(const uint8_t *p, size_t len, struct wgb_tw_msg *m);

/* An IPv4/UDP packet of total length `len` (>= WGB_TW_MIN_PACKET, at most
 * cap) carrying m, padded with zeros; UDP checksum 0 (allowed for IPv4).
 * Returns len, or 0 if it does not fit. */
size_t wgb_tw_ip_packet(uint8_t *out, size_t cap, size_t len, uint32_t src_be, uint16_t sport, uint32_t dst_be,
			uint16_t dport, const struct wgb_tw_msg *m);

/* What came out of the tunnel: an IPv4 packet, checked (version, header
 * length, total length within len, not a fragment, UDP, UDP length within
 * the packet) and its UDP payload parsed. 0 with the source port in
 * *sport and the packet's IP length in *ip_len, or -1 (not ours: another
 * protocol, a fragment, malformed). */
int wgb_tw_parse_ip(const uint8_t *pkt, size_t len, struct wgb_tw_msg *m, uint16_t *sport, size_t *ip_len);

#endif
