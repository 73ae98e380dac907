/* A bounded look at a UDP datagram that may start a DTLS handshake: is it a
 * ClientHello, and what session id does it carry? OpenConnect clients put the
 * X-DTLS-App-ID there, which ties a new UDP flow to its session before any
 * handshake state exists. */
#ifndef WG_DTLS_HELLO_H
#define WG_DTLS_HELLO_H

#include <stddef.h>
#include <stdint.h>

#define WG_DTLS_SESSION_ID_MAX 32

/* Returns 0 and fills sid/sid_len for a DTLS (1.0/1.2/1.3 record layer)
 * handshake record carrying the first fragment of a ClientHello; -1 for
 * anything else (other record types, truncation, lengths that disagree). */
int wg_dtls_hello_session_id(const uint8_t *pkt, size_t len, uint8_t sid[WG_DTLS_SESSION_ID_MAX],
			     size_t *sid_len);

#endif
