#include "dtls_payload.h"

enum wg_dtls_payload wg_dtls_payload_kind(const uint8_t *rec, size_t n)
{
	if (n == 0)
		return WG_DTLS_IGNORED;
	switch (rec[0]) {
	case 0x00:
		return WG_DTLS_DATA;
	case 0x03:
		return WG_DTLS_DPD_REQ;
	case 0x05:
		return WG_DTLS_DISCONNECT;
	default: /* 0x04 DPD response, 0x07 keepalive, anything unknown */
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
