/* transport-lanes: what a client sends that the server reads as text or
 * messages (docs/lanes.md 1, 3, 4): the X-Wolfguard-Lanes request value,
 * the PSK identity, the messages inside a lane, and the flow hash over the
 * IP packets they carry. The first byte picks the parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lane_msg.h"
#include "lane_sched.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void request(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		return;
	memcpy(s, d, n);
	s[n] = '\0';
	if (wg_lane_parse_request(s) > WG_LANES_MAX)
		__builtin_trap();
	free(s);
}

static void identity(const uint8_t *d, size_t n)
{
	uint8_t sid[WG_LANE_SID_LEN];
	unsigned lane;
	char back[WG_LANE_IDENTITY_MAX];

	if (wg_lane_identity_parse(d, n, sid, &lane) < 0)
		return;
	/* One spelling per lane: what parses, formats back to itself. */
	wg_lane_identity_format(sid, lane, back);
	if (lane >= WG_LANES_MAX || strlen(back) != n || memcmp(back, d, n) != 0)
		__builtin_trap();
}

static void message(const uint8_t *d, size_t n, size_t mtu)
{
	struct wg_lane_msg m;
	struct wg_sched s;

	if (wg_lane_msg_parse(d, n, mtu, &m) < 0)
		return;
	if (m.type == WG_LANE_MSG_DATA) {
		if (m.packet != d + 1 || m.len + 1 != n || m.len > mtu || m.len == 0)
			__builtin_trap();
		/* The packet is then hashed onto a lane. */
		wg_sched_init(&s, 1 + (n % WG_LANES_MAX));
		wg_sched_set_alive(&s, 0, true);
		if (wg_sched_pick(&s, wg_flow_hash(m.packet, m.len, 1)) != 0)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	switch (data[0] % 3) {
	case 0:
		request(data + 1, size - 1);
		break;
	case 1:
		identity(data + 1, size - 1);
		break;
	default:
		message(data + 2, size - 2, (size_t)data[1] * 8);
		break;
	}
	return 0;
}
