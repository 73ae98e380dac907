#include "tunnel/client_packet.h"

#include <string.h>

#include "tunnel/ip_hdr.h"
enum wg_packet_verdict wg_client_packet_check(const uint8_t *pkt, size_t len, const struct wg_packet_owner *o,
					      int *family, const uint8_t **dst)
{
	switch (wg_ip_family(pkt, len)) {
	case 4:
		if (!o->addr4 || memcmp(pkt + WG_IP4_SRC, &o->addr4, 4) != 0)
			return WG_PACKET_SPOOFED; /* or a stale address after a reconnect */
		*family = 4;
		*dst = pkt + WG_IP4_DST;
		return WG_PACKET_OK;
	case 6:
		if (!o->has_addr6 || memcmp(pkt + WG_IP6_SRC, o->addr6, 16) != 0)
			return WG_PACKET_SPOOFED;
		*family = 6;
		*dst = pkt + WG_IP6_DST;
		return WG_PACKET_OK;
	default:
		return WG_PACKET_MALFORMED;
	}
}
