/* CONNECT request and CSTP framing (see cstp.h). */
#include "cstp.h"

#include "auth_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int wgp_cstp_connect(const struct wgp_connect_opts *o, char *req, size_t cap)
{
	int n = snprintf(req, cap,
			 "CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nHost: %s\r\nUser-Agent: " WGP_USER_AGENT "\r\n"
			 "Cookie: webvpn=%s\r\nX-CSTP-Version: 1\r\nX-CSTP-Hostname: %s\r\nX-CSTP-Base-MTU: %u\r\n"
			 "X-CSTP-MTU: %u\r\nX-CSTP-Address-Type: %s\r\n%s%s%s%s%s\r\n",
			 o->host, o->cookie, o->client_name, o->base_mtu ? o->base_mtu : 1500, o->mtu ? o->mtu : 1390,
			 o->want_ipv6 ? "IPv6,IPv4" : "IPv4", o->want_ipv6 ? "X-CSTP-Full-IPv6-Capability: true\r\n" : "",
			 o->dtls_master_secret ? "X-DTLS-Master-Secret: " : "",
			 o->dtls_master_secret ? o->dtls_master_secret : "",
			 o->dtls_master_secret
				 ? "\r\nX-DTLS-CipherSuite: PSK-NEGOTIATE:OC-DTLS1_2-AES256-GCM:OC-DTLS1_2-AES128-GCM\r\n"
				   "X-DTLS12-CipherSuite: ECDHE-RSA-AES256-GCM-SHA384:AES256-GCM-SHA384\r\n"
				 : "",
			 o->extra_headers ? o->extra_headers : "");
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

int wgp_cstp_connect_request(const char *host, const char *cookie, const char *client_name, int offer_dtls,
			     char *req, size_t cap)
{
	struct wgp_connect_opts o = {
		.host = host,
		.cookie = cookie,
		.client_name = client_name,
		/* A fixed master secret: the bench never runs DTLS, the server
		 * only keeps the state it would need. */
		.dtls_master_secret = offer_dtls ? "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"
						   "00112233445566778899AABBCCDDEEFF"
						 : NULL,
	};
	return wgp_cstp_connect(&o, req, cap);
}

int wgp_cstp_feed(struct wgp_cstp_rx *rx, const uint8_t *p, size_t n, wgp_cstp_frame_fn fn, void *arg, char *err,
		  size_t errlen)
{
	while (n) {
		if (rx->hdr_len < WGP_CSTP_HDR) {
			size_t take = WGP_CSTP_HDR - rx->hdr_len;
			if (take > n)
				take = n;
			memcpy(rx->hdr + rx->hdr_len, p, take);
			rx->hdr_len = (uint8_t)(rx->hdr_len + take);
			p += take;
			n -= take;
			if (rx->hdr_len < WGP_CSTP_HDR)
				return 0;
			if (memcmp(rx->hdr, "STF\x01", 4) != 0) {
				snprintf(err, errlen, "bad CSTP header %02x %02x %02x %02x", rx->hdr[0], rx->hdr[1],
					 rx->hdr[2], rx->hdr[3]);
				return -1;
			}
			rx->len = (uint16_t)(rx->hdr[4] << 8 | rx->hdr[5]);
			rx->type = rx->hdr[6];
			rx->got = 0;
			if (rx->type == WGP_CSTP_DPD_REQ && rx->len > WGP_CSTP_MAX_DPD_PAYLOAD) {
				snprintf(err, errlen, "DPD request of %u bytes", rx->len);
				return -1;
			}
			if (rx->len && (rx->type == WGP_CSTP_DPD_REQ || (rx->keep_data && rx->type == WGP_CSTP_DATA))) {
				rx->payload = malloc(rx->len);
				if (!rx->payload) {
					snprintf(err, errlen, "out of memory");
					return -1;
				}
			}
		}
		size_t take = (size_t)(rx->len - rx->got);
		if (take > n)
			take = n;
		if (rx->payload)
			memcpy(rx->payload + rx->got, p, take);
		rx->got = (uint16_t)(rx->got + take);
		p += take;
		n -= take;
		if (rx->got < rx->len)
			return 0;
		fn(arg, rx->type, rx->payload, rx->len);
		free(rx->payload);
		rx->payload = NULL;
		rx->hdr_len = 0;
	}
	return 0;
}

void wgp_cstp_rx_free(struct wgp_cstp_rx *rx)
{
	free(rx->payload);
	rx->payload = NULL;
}

size_t wgp_cstp_frame(uint8_t *out, size_t cap, uint8_t type, const uint8_t *payload, size_t len)
{
	if (len > 0xffff || cap < WGP_CSTP_HDR + len)
		return 0;
	memcpy(out, "STF\x01", 4);
	out[4] = (uint8_t)(len >> 8);
	out[5] = (uint8_t)len;
	out[6] = type;
	out[7] = 0;
	if (len)
		memcpy(out + WGP_CSTP_HDR, payload, len);
	return WGP_CSTP_HDR + len;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

size_t wgp_ipv4_echo(uint8_t *out, size_t cap, uint32_t src_be, uint32_t dst_be, uint16_t id, uint16_t seq)
{
	const size_t len = 20 + 8 + 56;
	uint16_t c;

	if (cap < len)
		return 0;
	memset(out, 0, len);
	out[0] = 0x45;
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	out[8] = 64; /* TTL */
	out[9] = 1;  /* ICMP */
	memcpy(out + 12, &src_be, 4);
	memcpy(out + 16, &dst_be, 4);
	c = csum(out, 20);
	out[10] = (uint8_t)(c >> 8);
	out[11] = (uint8_t)c;
	out[20] = 8; /* echo request */
	out[24] = (uint8_t)(id >> 8);
	out[25] = (uint8_t)id;
	out[26] = (uint8_t)(seq >> 8);
	out[27] = (uint8_t)seq;
	for (size_t i = 28; i < len; i++)
		out[i] = (uint8_t)i;
	c = csum(out + 20, len - 20);
	out[22] = (uint8_t)(c >> 8);
	out[23] = (uint8_t)c;
	return len;
}
