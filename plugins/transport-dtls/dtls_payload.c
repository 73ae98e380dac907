#include "dtls_payload.h"

#include <wolfguard/cstp_wire.h>

enum wg_dtls_payload wg_dtls_payload_kind(const uint8_t *rec, size_t n)
{
	if (n == 0)
		return WG_DTLS_IGNORED;
	switch (rec[0]) {
	case WG_CSTP_DATA:
		return WG_DTLS_DATA;
	case WG_CSTP_DPD_REQ:
		return WG_DTLS_DPD_REQ;
	case WG_CSTP_DISCONNECT:
		return WG_DTLS_DISCONNECT;
	default: /* DPD response, keepalive, anything unknown */
		return WG_DTLS_IGNORED;
	}
}
