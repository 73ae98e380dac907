/* libFuzzer: what wolfguard-bench --traffic reads from the network (an IPv4
 * packet out of the tunnel, tools/bench/traffic_wire.c) and what
 * wolfguard-bench-sink reads (a UDP payload). The input is either. */
#include <stddef.h>
#include <stdint.h>

#include "traffic_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wgb_tw_msg m;
	uint16_t sport;
	size_t ip_len;
	uint8_t out[WGB_TW_REPORT_LEN];

	if (wgb_tw_parse_ip(data, size, &m, &sport, &ip_len) == 0 && (ip_len > size || ip_len < WGB_TW_MIN_PACKET))
		__builtin_trap();
	if (wgb_tw_parse(data, size, &m) == 0) {
		/* What parses is written back the same way (the sink's report). */
		size_t n = wgb_tw_put(out, sizeof(out), &m);
		struct wgb_tw_msg back;
		if (!n || wgb_tw_parse(out, n, &back) != 0 || back.run != m.run || back.session != m.session ||
		    back.kind != m.kind || back.rx_bytes != m.rx_bytes)
			__builtin_trap();
	}
	return 0;
}
