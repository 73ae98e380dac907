/* The tunnel side of the protocol: the CONNECT /CSCOSSLC/tunnel request,
 * the parameters of the 200 CONNECTED answer, and CSTP framing (8-byte
 * header 'S' 'T' 'F' 1, 16-bit big-endian length, type, 0). */
#ifndef WGB_CSTP_H
#define WGB_CSTP_H

#include <stddef.h>
#include <stdint.h>
#include <wolfguard/cstp_wire.h>

/* The bench's names for the one definition of the wire (sdk/). */
enum {
	WGB_CSTP_DATA = WG_CSTP_DATA,
	WGB_CSTP_DPD_REQ = WG_CSTP_DPD_REQ,
	WGB_CSTP_DPD_RESP = WG_CSTP_DPD_RESP,
	WGB_CSTP_DISCONNECT = WG_CSTP_DISCONNECT,
	WGB_CSTP_KEEPALIVE = WG_CSTP_KEEPALIVE,
	WGB_CSTP_COMPRESSED = WG_CSTP_COMPRESSED,
	WGB_CSTP_TERMINATE = WG_CSTP_TERMINATE,
};

#define WGB_CSTP_HDR WG_CSTP_HEADER_LEN
#define WGB_CSTP_MAX_DPD_PAYLOAD 2048

struct wgb_tunnel_params {
	unsigned keepalive_s, dpd_s; /* 0: not given */
	char address[48];            /* X-CSTP-Address */
};

/* The CONNECT request; offer_dtls adds the DTLS headers openconnect sends
 * (the bench never starts DTLS; the server just keeps its DTLS state). */
int wgb_cstp_connect_request(const char *host, const char *cookie, const char *client_name, int offer_dtls,
			     char *req, size_t cap);
void wgb_cstp_read_params(const char *hdrs, size_t hlen, struct wgb_tunnel_params *tp);

/* Incremental reader of the frames in the TLS stream. Payloads are skipped,
 * except a DPD request's, which is kept to be echoed. */
struct wgb_cstp_rx {
	uint8_t hdr[WGB_CSTP_HDR];
	uint8_t hdr_len;
	uint8_t type;
	uint16_t len, got;
	uint8_t *dpd; /* allocated while a DPD request's payload is being read */
};

typedef void (*wgb_cstp_frame_fn)(void *arg, uint8_t type, const uint8_t *payload, size_t len);

/* Feeds n bytes; calls fn for each complete frame. -1 on bad framing. */
int wgb_cstp_feed(struct wgb_cstp_rx *rx, const uint8_t *p, size_t n, wgb_cstp_frame_fn fn, void *arg, char *err,
		  size_t errlen);
void wgb_cstp_rx_free(struct wgb_cstp_rx *rx);

/* Writes one frame; returns its length (0 if cap is too small). */
size_t wgb_cstp_frame(uint8_t *out, size_t cap, uint8_t type, const uint8_t *payload, size_t len);

/* An IPv4 ICMP echo request (28 bytes of headers + 56 of data), for the
 * optional traffic; returns its length. */
size_t wgb_ipv4_echo(uint8_t *out, size_t cap, uint32_t src_be, uint32_t dst_be, uint16_t id, uint16_t seq);

#endif
