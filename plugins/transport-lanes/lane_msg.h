/* The lanes protocol's small texts and messages (docs/lanes.md sections 1,
 * 3 and 4): the X-Wolfguard-Lanes request value, the PSK identity a lane's
 * ClientHello names, and the messages inside a lane. Pure functions over
 * bytes from the network, so each one has a fuzz target. */
#ifndef WG_LANE_MSG_H
#define WG_LANE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_LANES_MAX 16           /* most lanes a client may ask for */
#define WG_LANE_SID_LEN 16        /* the lane-session id, bytes */
#define WG_LANE_PSK_LEN 32
#define WG_LANE_EXPORTER_LABEL "EXPORTER-wolfguard-lane"
#define WG_LANE_IDENTITY_PREFIX "wgl1:"
/* "wgl1:" + 32 hex + ":" + up to 2 digits, and the NUL */
#define WG_LANE_IDENTITY_MAX (5 + 2 * WG_LANE_SID_LEN + 1 + 2 + 1)

enum wg_lane_msg_type {
	WG_LANE_MSG_DATA = 0x00,
	WG_LANE_MSG_PROBE = 0x01,
	WG_LANE_MSG_PROBE_ACK = 0x02,
	WG_LANE_MSG_CLOSE = 0x03,
};
#define WG_LANE_PROBE_LEN 21 /* type, seq u32, stamp u64, rx_bytes u64 */

/* A message as parsed: for DATA, packet/len name the IP packet inside buf. */
struct wg_lane_msg {
	uint8_t type;          /* enum wg_lane_msg_type */
	const uint8_t *packet; /* DATA only */
	size_t len;
	uint32_t seq;          /* PROBE, PROBE-ACK */
	uint64_t stamp, rx_bytes;
};

/* The X-Wolfguard-Lanes request value: 1 to WG_LANES_MAX in plain decimal
 * (no sign, space or leading zero). Returns the count, or 0 when the value
 * is absent or not that. */
unsigned wg_lane_parse_request(const char *value);

/* Writes "wgl1:<hex sid>:<lane>" into out (WG_LANE_IDENTITY_MAX bytes). */
void wg_lane_identity_format(const uint8_t sid[WG_LANE_SID_LEN], unsigned lane, char *out);
/* Parses an identity of len bytes (not NUL-terminated): 0 with the id and
 * lane number, or -1 unless it is exactly that form (lower-case hex, lane
 * 0..WG_LANES_MAX-1 without leading zeros). */
int wg_lane_identity_parse(const uint8_t *id, size_t len, uint8_t sid[WG_LANE_SID_LEN], unsigned *lane);

/* One message of len bytes (a decrypted DTLS record). Returns 0, or -1 for
 * a malformed one (empty, a short probe, DATA without a packet or longer
 * than mtu); an unknown type parses (returns 0) with its type for the
 * caller to count and drop. */
int wg_lane_msg_parse(const uint8_t *buf, size_t len, size_t mtu, struct wg_lane_msg *out);
/* Writes a PROBE or PROBE-ACK (WG_LANE_PROBE_LEN bytes) into out. */
void wg_lane_probe_write(uint8_t *out, uint8_t type, uint32_t seq, uint64_t stamp, uint64_t rx_bytes);

#endif
