/* The tunnel side of the protocol, shared by the load generator and
 * wolfguard-client: the CONNECT /CSCOSSLC/tunnel request and CSTP framing
 * (8-byte header 'S' 'T' 'F' 1, 16-bit big-endian length, type, 0). The
 * answer's configuration headers are read by tunnel_config.h. */
#ifndef WGP_CSTP_H
#define WGP_CSTP_H

#include <stddef.h>
#include <stdint.h>

enum {
	WGP_CSTP_DATA = 0x00,
	WGP_CSTP_DPD_REQ = 0x03,
	WGP_CSTP_DPD_RESP = 0x04,
	WGP_CSTP_DISCONNECT = 0x05,
	WGP_CSTP_KEEPALIVE = 0x07,
	WGP_CSTP_COMPRESSED = 0x08,
	WGP_CSTP_TERMINATE = 0x09,
};

#define WGP_CSTP_HDR 8
#define WGP_CSTP_MAX_DPD_PAYLOAD 2048

/* What the CONNECT request says about the client. */
struct wgp_connect_opts {
	const char *host;          /* Host header */
	const char *cookie;        /* the webvpn cookie */
	const char *client_name;   /* X-CSTP-Hostname */
	unsigned mtu, base_mtu;    /* 0: 1390 and 1500 */
	int want_ipv6;             /* X-CSTP-Address-Type: IPv6,IPv4 rather than IPv4 */
	/* DTLS offer: NULL for none. master_secret is 96 hex digits (legacy
	 * DTLS; PSK-NEGOTIATE does not use it but servers expect it). */
	const char *dtls_master_secret;
	const char *extra_headers; /* "Name: value\r\n"... appended as is, or NULL */
};

/* Writes the request; its length, or -1 if cap is too small. */
int wgp_cstp_connect(const struct wgp_connect_opts *o, char *req, size_t cap);

/* The load generator's CONNECT: IPv4 only, and with offer_dtls a fixed
 * master secret (it never starts DTLS; the server just keeps the state). */
int wgp_cstp_connect_request(const char *host, const char *cookie, const char *client_name, int offer_dtls,
			     char *req, size_t cap);

/* Incremental reader of the frames in the TLS stream. A DPD request's
 * payload is always kept (to be echoed); a data frame's only with
 * keep_data (the client; the load generator skips them). */
struct wgp_cstp_rx {
	uint8_t hdr[WGP_CSTP_HDR];
	uint8_t hdr_len;
	uint8_t type;
	uint16_t len, got;
	int keep_data;
	uint8_t *payload; /* allocated while a kept payload is being read */
};

typedef void (*wgp_cstp_frame_fn)(void *arg, uint8_t type, const uint8_t *payload, size_t len);

/* Feeds n bytes; calls fn for each complete frame (payload NULL when it
 * was not kept). -1 on bad framing, with the reason in err. fn must not
 * free rx. */
int wgp_cstp_feed(struct wgp_cstp_rx *rx, const uint8_t *p, size_t n, wgp_cstp_frame_fn fn, void *arg, char *err,
		  size_t errlen);
void wgp_cstp_rx_free(struct wgp_cstp_rx *rx);

/* Writes one frame; returns its length (0 if cap is too small). */
size_t wgp_cstp_frame(uint8_t *out, size_t cap, uint8_t type, const uint8_t *payload, size_t len);

/* An IPv4 ICMP echo request (28 bytes of headers + 56 of data), for the
 * optional traffic; returns its length. */
size_t wgp_ipv4_echo(uint8_t *out, size_t cap, uint32_t src_be, uint32_t dst_be, uint16_t id, uint16_t seq);

#endif
