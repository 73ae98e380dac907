/* The payload of a decrypted DTLS record: one type byte (the CSTP codes),
 * then the packet. A pure function, fuzzed with the host's packet check
 * (tests/fuzz/fuzz_dtls_payload.c). */
#ifndef WG_DTLS_PAYLOAD_H
#define WG_DTLS_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

enum wg_dtls_payload {
	WG_DTLS_DATA,       /* an IP packet follows */
	WG_DTLS_DPD_REQ,    /* answered with the same bytes */
	WG_DTLS_DISCONNECT, /* the client leaves */
	WG_DTLS_IGNORED,    /* keepalive, DPD response, unknown, or empty */
};
enum wg_dtls_payload wg_dtls_payload_kind(const uint8_t *rec, size_t n);

#endif
