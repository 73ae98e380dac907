#include "tunnel/client_packet.h"

#include <string.h>

enum wg_packet_verdict wg_client_packet_check(const uint8_t *pkt, size_t len, const struct wg_packet_owner *o,
					      int *family, const uint8_t **dst)
{
	if (len >= 20 && (pkt[0] >> 4) == 4) {
		if (!o->addr4 || memcmp(pkt + 12, &o->addr4, 4) != 0)
			return WG_PACKET_SPOOFED; /* or a stale address after a reconnect */
		*family = 4;
		*dst = pkt + 16;
		return WG_PACKET_OK;
	}
	if (len >= 40 && (pkt[0] >> 4) == 6) {
		if (!o->has_addr6 || memcmp(pkt + 8, o->addr6, 16) != 0)
			return WG_PACKET_SPOOFED;
		*family = 6;
		*dst = pkt + 24;
		return WG_PACKET_OK;
	}
	return WG_PACKET_MALFORMED;
}
