/* The lanes protocol's texts and messages (plugins/transport-lanes/
 * lane_msg.c and lane_datagram.c), docs/lanes.md sections 1, 3 and 4. */
#include <criterion/criterion.h>
#include <string.h>

#include "lane_datagram.h"
#include "lane_msg.h"

Test(lane_msg, request_header_values)
{
	cr_assert_eq(wg_lane_parse_request("1"), 1);
	cr_assert_eq(wg_lane_parse_request("16"), 16);
	cr_assert_eq(wg_lane_parse_request("17"), 0);
	cr_assert_eq(wg_lane_parse_request("0"), 0);
	cr_assert_eq(wg_lane_parse_request("02"), 0);
	cr_assert_eq(wg_lane_parse_request(" 2"), 0);
	cr_assert_eq(wg_lane_parse_request("2 "), 0);
	cr_assert_eq(wg_lane_parse_request("+2"), 0);
	cr_assert_eq(wg_lane_parse_request("100"), 0);
	cr_assert_eq(wg_lane_parse_request(""), 0);
	cr_assert_eq(wg_lane_parse_request(NULL), 0);
}

Test(lane_msg, identity_round_trip)
{
	uint8_t sid[WG_LANE_SID_LEN], back[WG_LANE_SID_LEN];
	char id[WG_LANE_IDENTITY_MAX];
	unsigned lane;

	for (unsigned i = 0; i < WG_LANE_SID_LEN; i++)
		sid[i] = (uint8_t)(i * 17 + 3);
	wg_lane_identity_format(sid, 11, id);
	cr_assert_str_eq(id, "wgl1:03142536475869" "7a8b9cadbecfe0f102:11");
	cr_assert_eq(wg_lane_identity_parse((const uint8_t *)id, strlen(id), back, &lane), 0);
	cr_assert_eq(lane, 11);
	cr_assert_arr_eq(back, sid, sizeof(sid));
}

static int parse(const char *s)
{
	uint8_t sid[WG_LANE_SID_LEN];
	unsigned lane;

	return wg_lane_identity_parse((const uint8_t *)s, strlen(s), sid, &lane);
}

Test(lane_msg, identities_of_other_shapes_are_refused)
{
	cr_assert_eq(parse("wgl1:0314253647586970a8b9cadbecfe0f10:0"), 0);
	cr_assert_eq(parse("wgl1:0314253647586970A8B9CADBECFE0F10:0"), -1, "upper-case hex");
	cr_assert_eq(parse("wgl1:0314253647586970a8b9cadbecfe0f10:00"), -1, "a leading zero");
	cr_assert_eq(parse("wgl1:0314253647586970a8b9cadbecfe0f10:16"), -1, "beyond the lanes");
	cr_assert_eq(parse("wgl1:0314253647586970a8b9cadbecfe0f10:"), -1);
	cr_assert_eq(parse("wgl1:0314253647586970a8b9cadbecfe0f1:0"), -1, "short id");
	cr_assert_eq(parse("wgl2:0314253647586970a8b9cadbecfe0f10:0"), -1);
	cr_assert_eq(parse("wgl1:0314253647586970a8b9cadbecfe0f10;0"), -1);
	cr_assert_eq(parse("wgl1:0314253647586970a8b9cadbecfe0f10:1x"), -1);
	cr_assert_eq(parse("psk"), -1);
}

Test(lane_msg, probes_round_trip)
{
	uint8_t b[WG_LANE_PROBE_LEN + 3];
	struct wg_lane_msg m;

	wg_lane_probe_write(b, WG_LANE_MSG_PROBE_ACK, 0xdeadbeef, 0x0102030405060708ull, 99);
	cr_assert_eq(wg_lane_msg_parse(b, WG_LANE_PROBE_LEN, 1400, &m), 0);
	cr_assert_eq(m.type, WG_LANE_MSG_PROBE_ACK);
	cr_assert_eq(m.seq, 0xdeadbeef);
	cr_assert_eq(m.stamp, 0x0102030405060708ull);
	cr_assert_eq(m.rx_bytes, 99);
	cr_assert_eq(wg_lane_msg_parse(b, WG_LANE_PROBE_LEN + 3, 1400, &m), 0, "later fields are ignored");
	cr_assert_eq(wg_lane_msg_parse(b, WG_LANE_PROBE_LEN - 1, 1400, &m), -1, "a short probe");
}

Test(lane_msg, data_limits)
{
	uint8_t b[1500] = {WG_LANE_MSG_DATA, 0x45};
	struct wg_lane_msg m;

	cr_assert_eq(wg_lane_msg_parse(b, 1401, 1400, &m), 0);
	cr_assert_eq(m.len, 1400);
	cr_assert_eq(m.packet, b + 1);
	cr_assert_eq(wg_lane_msg_parse(b, 1402, 1400, &m), -1, "beyond the lanes MTU");
	cr_assert_eq(wg_lane_msg_parse(b, 1, 1400, &m), -1, "DATA without a packet");
	cr_assert_eq(wg_lane_msg_parse(b, 0, 1400, &m), -1);
	b[0] = 0x7f;
	cr_assert_eq(wg_lane_msg_parse(b, 5, 1400, &m), 0, "an unknown type parses for the caller to drop");
	cr_assert_eq(m.type, 0x7f);
}

Test(lane_datagram, cid_of_a_unified_header)
{
	uint8_t d[32] = {0x3c, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0}, cid[WG_LANE_CID_LEN];

	cr_assert_eq(wg_lane_datagram_cid(d, sizeof(d), cid), 0);
	cr_assert_eq(cid[0], 1);
	cr_assert_eq(cid[7], 8);
	d[0] = 0x2c; /* no C bit */
	cr_assert_eq(wg_lane_datagram_cid(d, sizeof(d), cid), -1);
	d[0] = 22; /* a plaintext handshake record */
	cr_assert_eq(wg_lane_datagram_cid(d, sizeof(d), cid), -1);
	d[0] = 0x3c;
	cr_assert_eq(wg_lane_datagram_cid(d, 8, cid), -1, "too short for a CID");
}

Test(lane_datagram, not_a_client_hello)
{
	uint8_t d[100] = {23, 0xfe, 0xfd};
	const uint8_t *id;
	size_t n;

	cr_assert_eq(wg_lane_datagram_psk_identity(d, sizeof(d), &id, &n), -1);
	cr_assert_eq(wg_lane_datagram_psk_identity(d, 5, &id, &n), -1);
	cr_assert_eq(wg_lane_datagram_psk_identity(NULL, 0, &id, &n), -1);
}

/* The lanes' read stops after the record of a one-record datagram. */
Test(lane_datagram, single_record)
{
	uint8_t d[64] = {0};

	/* unified header, CID, 16-bit sequence, length: 1 + 8 + 2 + 2 = 13 */
	d[0] = 0x20 | 0x10 | 0x08 | 0x04;
	d[11] = 0;
	d[12] = 20;
	cr_assert(wg_lane_datagram_single_record(d, 13 + 20));
	cr_assert_not(wg_lane_datagram_single_record(d, 13 + 21)); /* another record follows */
	cr_assert_not(wg_lane_datagram_single_record(d, 12));      /* cut header */
	/* no CID, 8-bit sequence, length: 1 + 1 + 2 */
	d[0] = 0x20 | 0x04;
	d[2] = 0;
	d[3] = 5;
	cr_assert(wg_lane_datagram_single_record(d, 4 + 5));
	/* no length: the record runs to the end */
	d[0] = 0x20 | 0x10 | 0x08;
	cr_assert(wg_lane_datagram_single_record(d, 40));
	/* a 13-byte-header record (an alert, a ClientHello) */
	memset(d, 0, sizeof(d));
	d[0] = 21;
	d[12] = 2;
	cr_assert(wg_lane_datagram_single_record(d, 15));
	cr_assert_not(wg_lane_datagram_single_record(d, 30));
	cr_assert_not(wg_lane_datagram_single_record(d, 0));
}
