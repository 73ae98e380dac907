/* The payload of a decrypted DTLS record: one type byte (the CSTP codes),
 * then the packet; and whether a datagram is one record. Pure functions,
 * fuzzed with the host's packet check (tests/fuzz/fuzz_dtls_payload.c). */
#ifndef WG_DTLS_PAYLOAD_H
#define WG_DTLS_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wg_dtls_payload {
	WG_DTLS_DATA,       /* an IP packet follows */
	WG_DTLS_DPD_REQ,    /* answered with the same bytes */
	WG_DTLS_DISCONNECT, /* the client leaves */
	WG_DTLS_IGNORED,    /* keepalive, DPD response, unknown, or empty */
};
enum wg_dtls_payload wg_dtls_payload_kind(const uint8_t *rec, size_t n);

/* True when the datagram is exactly one DTLS 1.2 record: its 13-byte
 * header's length field covers the rest. After wolfSSL_read returned the
 * data of such a datagram nothing of it is left, so the server need not
 * read again to learn that (dtls_server.c). */
bool wg_dtls_single_record(const uint8_t *dgram, size_t n);

#endif
