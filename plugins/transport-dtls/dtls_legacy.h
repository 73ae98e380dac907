/* Legacy DTLS (the Cisco "session resumption" flavour) on wolfSSL.
 *
 * The client chose the master secret and sent it over TLS; the server
 * answered with a suite and a session id (the session's App-ID). The
 * client's ClientHello then carries that session id and expects an
 * abbreviated handshake. wolfSSL's server resumes only sessions it finds in
 * a cache, so this file gives the legacy context an external cache whose
 * lookup builds the session from the link's parameters; nothing is stored
 * and no full handshake can succeed (no certificate, no key exchange).
 *
 * dtls_server.c owns the links; it calls wg_dtls_legacy_ctx_new once and passes a
 * function that maps a WOLFSSL to its link's parameters. */
#ifndef WG_DTLS_LEGACY_H
#define WG_DTLS_LEGACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "dtls_legacy_hdr.h"

typedef const struct wg_dtls_legacy_params *(*wg_dtls_legacy_params_of)(WOLFSSL *ssl);

/* A DTLS 1.2 server context that only resumes: the suites of the table that
 * this wolfSSL has, the session lookup above. NULL if this wolfSSL cannot do
 * it (no static-RSA suites, or its session format is not the one expected):
 * legacy DTLS is then off and clients get PSK-NEGOTIATE or TLS. why gets the
 * reason, or the suites on success, for the caller's log (no logging here,
 * so the file moves into a plugin as it is). */
WOLFSSL_CTX *wg_dtls_legacy_ctx_new(wg_dtls_legacy_params_of params_of, char *why, size_t why_len);
/* Frees a context of wg_dtls_legacy_ctx_new (NULL: nothing), and with the
 * last one the session template this file keeps. */
void wg_dtls_legacy_ctx_free(WOLFSSL_CTX *ctx);

/* The session p resumes, for side WOLFSSL_SERVER_END or WOLFSSL_CLIENT_END
 * (the unit tests' client resumes it as openconnect does); NULL on failure.
 * Free with wolfSSL_SESSION_free. */
WOLFSSL_SESSION *wg_dtls_legacy_session(const struct wg_dtls_legacy_params *p, int side);

/* True if the two parameter sets resume the same session. */
bool wg_dtls_legacy_same(const struct wg_dtls_legacy_params *a, const struct wg_dtls_legacy_params *b);

#endif
