/* The server name (SNI, RFC 6066) of a TLS ClientHello, read from the
 * bytes a client sent before the TLS context is chosen: vhosts each have
 * their own context (certificate, client-certificate CA), so the name must
 * be known before wolfSSL sees the connection. A pure function of outside
 * input (fuzzed: tests/fuzz/fuzz_sni.c). */
#ifndef WG_SNI_H
#define WG_SNI_H

#include <stddef.h>
#include <stdint.h>

/* The first TLS record is at most this long (header + 2^14 bytes). */
#define WG_SNI_MAX_RECORD (5 + 16384)
/* A host name longer than this is not one (RFC 1035). */
#define WG_SNI_NAME_MAX 253

/* buf holds the first bytes of a connection. Returns -1 when the first
 * record is not complete yet (read more), 1 with the host name in name
 * (lower case, NUL-terminated; namelen > WG_SNI_NAME_MAX) when the
 * ClientHello in that record carries one, else 0: no name, or not a
 * ClientHello this can read (wolfSSL then answers it as it would). A
 * ClientHello longer than its first record is read as far as the record
 * goes. */
int wg_sni_parse(const uint8_t *buf, size_t len, char *name, size_t namelen);

#endif
