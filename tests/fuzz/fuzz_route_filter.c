/* restrict-user-to-ports values and the packets the filter reads
 * (core/tunnel/route_filter.c): the input's first line is a port list, the
 * rest a packet from a client (IPv4 or IPv6 with extension headers). The
 * filter runs on packets that passed client_packet.c's checks, which
 * guarantee a whole IP header; this target only asks that much. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <wolfguard/plugin.h>

#include "tunnel/route_filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wg_route_filter f;
	struct wg_tunnel_config tc;
	const uint8_t *nl = memchr(data, '\n', size);
	char spec[256], err[160];
	size_t slen = nl ? (size_t)(nl - data) : 0;

	if (!nl || slen >= sizeof(spec))
		return 0;
	memcpy(spec, data, slen);
	spec[slen] = '\0';
	memset(&f, 0, sizeof(f));
	memset(&tc, 0, sizeof(tc));
	tc.n_include = 1;
	memcpy(tc.include[0].net, "203.0.113.0/24", 15);
	wg_route_filter_set_routes(&f, &tc);
	if (wg_port_rules_parse(spec, &f, err, sizeof(err)) < 0)
		return 0;
	const uint8_t *pkt = nl + 1;
	size_t len = size - slen - 1;
	if (len >= 20 && (pkt[0] >> 4) == 4 && (size_t)(pkt[0] & 0x0f) * 4 >= 20 && (size_t)(pkt[0] & 0x0f) * 4 <= len)
		wg_route_filter_allows(&f, pkt, len);
	else if (len >= 40 && (pkt[0] >> 4) == 6)
		wg_route_filter_allows(&f, pkt, len);
	return 0;
}
