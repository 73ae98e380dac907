/* Does a DTLS ClientHello carry the extended_master_secret extension (RFC
 * 7627, type 23)? Legacy DTLS resumes a session the client made up, so the
 * server's copy of it must say "EMS" exactly when the client's hello does:
 * wolfSSL runs a full handshake (which cannot succeed here) when a client
 * with EMS resumes a session without it, and refuses the opposite.
 * A bounded look at the datagram, no handshake state; fuzzed. */
#ifndef WG_DTLS_LEGACY_EMS_H
#define WG_DTLS_LEGACY_EMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True only for a whole (unfragmented) DTLS ClientHello record whose
 * extensions, all within bounds, include type 23; false for anything else. */
bool wg_dtls_legacy_hello_ems(const uint8_t *pkt, size_t len);

#endif
