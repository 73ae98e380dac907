/* CSTP framing inside the TLS stream after "200 CONNECTED":
 * 'S' 'T' 'F' 0x01, 16-bit big-endian payload length, type, 0x00, payload. */
#ifndef WG_CSTP_FRAME_H
#define WG_CSTP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define WG_CSTP_HEADER_LEN 8

enum wg_cstp_type {
	WG_CSTP_DATA = 0x00,
	WG_CSTP_DPD_REQ = 0x03,
	WG_CSTP_DPD_RESP = 0x04,
	WG_CSTP_DISCONNECT = 0x05,
	WG_CSTP_KEEPALIVE = 0x07,
	WG_CSTP_COMPRESSED = 0x08,
	WG_CSTP_TERMINATE = 0x09,
};

struct wg_cstp_frame {
	uint8_t type;
	const uint8_t *payload; /* points into the parsed buffer */
	size_t len;
};

/* Looks for one frame at the start of buf. Returns the frame's total length
 * (header + payload) when it is complete, 0 when more bytes are needed, and
 * -1 when the bytes are not CSTP (bad magic, or a payload longer than
 * max_payload): the caller closes the session with a clear log line. */
int wg_cstp_parse(const uint8_t *buf, size_t len, size_t max_payload, struct wg_cstp_frame *out);
/* Writes an 8-byte header for a payload of len bytes. */
void wg_cstp_header(uint8_t hdr[WG_CSTP_HEADER_LEN], uint8_t type, uint16_t len);
const char *wg_cstp_type_name(uint8_t type);

#endif
