/* Legacy DTLS offers in a CONNECT request: which of the client's
 * X-DTLS-CipherSuite / X-DTLS12-CipherSuite names the server can serve with
 * a resumed session, and the client's X-DTLS-Master-Secret.
 *
 * Before PSK-NEGOTIATE, AnyConnect-compatible clients set DTLS up without a
 * handshake of their own: the client picks a 48-byte master secret and sends
 * it over the (authenticated, encrypted) TLS connection, the server answers
 * with the suite it chose and a session id, and the client "resumes" that
 * session over UDP (abbreviated handshake). This file only reads the headers;
 * dtls_legacy.c makes wolfSSL resume. No wolfSSL here, so the parser is
 * fuzzed and unit-tested on its own. */
#ifndef WG_DTLS_LEGACY_HDR_H
#define WG_DTLS_LEGACY_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_DTLS_MASTER_SECRET_LEN 48

/* One suite name a client may send, and what the server does with it. */
struct wg_dtls_legacy_suite {
	const char *name;     /* as the client writes it and the server answers */
	bool dtls12_header;   /* named in X-DTLS12-CipherSuite (Cisco's DTLS 1.2 list) */
	uint8_t id[2];        /* the TLS cipher suite number resumed */
	const char *wolfssl;  /* wolfSSL's name of that suite */
	bool supported;       /* false: known, but wolfSSL cannot serve it */
	unsigned prio;        /* higher is preferred */
};

struct wg_dtls_legacy_offer {
	bool psk_negotiate;  /* PSK-NEGOTIATE in either list: preferred, no legacy */
	bool have_master;    /* X-DTLS-Master-Secret held exactly 96 hex digits */
	uint8_t master[WG_DTLS_MASTER_SECRET_LEN];
	/* The best suite the server serves among those offered (NULL: none;
	 * never set when the master secret is missing). */
	const struct wg_dtls_legacy_suite *suite;
	/* The first offered suite that is known but unsupported (DTLS 0.9),
	 * for the log line that explains why a client gets no DTLS. */
	const struct wg_dtls_legacy_suite *unsupported;
};

#define WG_DTLS_LEGACY_SESSION_ID_LEN 32 /* the session's App-ID */

/* What a link resumes: chosen at CONNECT, fixed for the session's TLS
 * connection. suite NULL means "not legacy" (PSK-NEGOTIATE). */
struct wg_dtls_legacy_params {
	const struct wg_dtls_legacy_suite *suite;
	uint8_t master[WG_DTLS_MASTER_SECRET_LEN];
	uint8_t session_id[WG_DTLS_LEGACY_SESSION_ID_LEN];
	/* The client's ClientHello asks for the extended master secret (set
	 * by dtls_server.c per handshake, see dtls_legacy_ems.h; not compared). */
	bool ems;
};

/* Reads the three headers (each may be NULL: absent). Never fails: a bad
 * master secret or unknown names just leave nothing to choose. Tokens are
 * ':'-separated and compared exactly (openconnect and Cisco clients send
 * them so); surrounding blanks are ignored. */
void wg_dtls_legacy_parse(const char *master_hex, const char *suites, const char *suites12,
			  struct wg_dtls_legacy_offer *out);

/* The suite table (for tests and docs), terminated by a NULL name. */
extern const struct wg_dtls_legacy_suite wg_dtls_legacy_suites[];

#endif
