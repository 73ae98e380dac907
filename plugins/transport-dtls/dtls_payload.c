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

#define DTLS12_RECORD_HEADER 13 /* type, version, epoch, 48-bit sequence, length */

bool wg_dtls_single_record(const uint8_t *dgram, size_t n)
{
	if (n < DTLS12_RECORD_HEADER)
		return false;
	return DTLS12_RECORD_HEADER + (((size_t)dgram[11] << 8) | dgram[12]) == n;
}
