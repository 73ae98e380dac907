/* CSTP frame header: "STF" 0x01, length (16-bit big-endian), type, 0x00. */
#include "tunnel/cstp_frame.h"

int wg_cstp_parse(const uint8_t *buf, size_t len, size_t max_payload, struct wg_cstp_frame *out)
{
	size_t plen;

	if (len < WG_CSTP_HEADER_LEN) {
		/* Reject a wrong prefix early rather than waiting for 8 bytes. */
		static const uint8_t magic[4] = {'S', 'T', 'F', 0x01};
		for (size_t i = 0; i < len && i < 4; i++)
			if (buf[i] != magic[i])
				return -1;
		return 0;
	}
	if (buf[0] != 'S' || buf[1] != 'T' || buf[2] != 'F' || buf[3] != 0x01)
		return -1;
	plen = (size_t)buf[4] << 8 | buf[5];
	if (plen > max_payload)
		return -1;
	if (len < WG_CSTP_HEADER_LEN + plen)
		return 0;
	out->type = buf[6];
	out->payload = buf + WG_CSTP_HEADER_LEN;
	out->len = plen;
	return (int)(WG_CSTP_HEADER_LEN + plen);
}

void wg_cstp_header(uint8_t hdr[WG_CSTP_HEADER_LEN], uint8_t type, uint16_t len)
{
	hdr[0] = 'S';
	hdr[1] = 'T';
	hdr[2] = 'F';
	hdr[3] = 0x01;
	hdr[4] = (uint8_t)(len >> 8);
	hdr[5] = (uint8_t)len;
	hdr[6] = type;
	hdr[7] = 0;
}

const char *wg_cstp_type_name(uint8_t type)
{
	switch (type) {
	case WG_CSTP_DATA: return "DATA";
	case WG_CSTP_DPD_REQ: return "DPD-REQ";
	case WG_CSTP_DPD_RESP: return "DPD-RESP";
	case WG_CSTP_DISCONNECT: return "DISCONNECT";
	case WG_CSTP_KEEPALIVE: return "KEEPALIVE";
	case WG_CSTP_COMPRESSED: return "COMPRESSED";
	case WG_CSTP_TERMINATE: return "TERMINATE";
	default: return "unknown";
	}
}
