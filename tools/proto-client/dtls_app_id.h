/* The ClientHello session id openconnect's PSK-NEGOTIATE needs: the
 * server's X-DTLS-App-ID, so the server finds the session before any
 * handshake state exists.
 *
 * wolfSSL offers no call to choose the ClientHello's session id (its
 * wolfSSL_SESSION_set1_id needs OPENSSL_ALL, not in this build), but it
 * sends the id of a session it is asked to resume. So a throwaway DTLS 1.2
 * session is made once in memory (a client and a server wolfSSL talking
 * through two buffers, with a key nobody else uses), its serialised form
 * gets the App-ID in place of its id, and the DTLS client "resumes" that:
 * the server does not know the session, looks the id up as an App-ID, and
 * runs a full PSK handshake with the exported key. Used by wolfguard-client
 * and the unit tests of transport-dtls. */
#ifndef WG_PROTO_DTLS_APP_ID_H
#define WG_PROTO_DTLS_APP_ID_H

#include <stddef.h>
#include <stdint.h>

typedef struct WOLFSSL_SESSION WOLFSSL_SESSION;

#define WG_DTLS_APP_ID_BYTES 32

/* A session (the caller frees it with wolfSSL_SESSION_free) whose id is
 * the id_len (32) bytes at id, negotiated with one of suites (a wolfSSL
 * cipher list of PSK suites, the ones the real handshake offers). NULL
 * with the reason in err. */
WOLFSSL_SESSION *wg_dtls_session_with_app_id(const uint8_t *id, size_t id_len, const char *suites, char *err,
					     size_t errlen);

#endif
